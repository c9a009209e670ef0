namespace ConvService.Api.Hosting;

/// <summary>Tells gRPC calls from REST (JSON transcoding) calls, which share the service's methods but not its limits.</summary>
public static class GrpcRequestExtensions
{
    /// <summary>True for a gRPC request (content type application/grpc, with or without +proto and the like).</summary>
    public static bool IsGrpc(this HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
}
