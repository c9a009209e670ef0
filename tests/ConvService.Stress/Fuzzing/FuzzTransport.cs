namespace ConvService.Stress.Fuzzing;

/// <summary>Which front door a fuzz case goes through: gRPC (protobuf body) or REST (JSON body).</summary>
public enum FuzzTransport
{
    Grpc,
    Rest,
}
