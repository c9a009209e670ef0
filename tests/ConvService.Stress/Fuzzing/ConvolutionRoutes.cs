using Grpc.Core;

namespace ConvService.Stress.Fuzzing;

/// <summary>
/// The contract's RPC names and REST paths, plus byte-level gRPC method descriptors so a fuzzer
/// can put any bytes on the wire (the generated client would only send well-formed messages).
/// </summary>
public static class ConvolutionRoutes
{
    public const string ServiceName = "conv.v1.Convolution";
    public const string Convolve = "Convolve";
    public const string SeparableConvolve = "SeparableConvolve";
    public const string EstimateCost = "EstimateCost";

    public static readonly IReadOnlyList<string> Methods = [Convolve, SeparableConvolve, EstimateCost];

    private static readonly Marshaller<byte[]> Identity = Marshallers.Create(bytes => bytes, bytes => bytes);

    private static readonly Dictionary<string, Method<byte[], byte[]>> RawMethods = Methods.ToDictionary(
        name => name,
        name => new Method<byte[], byte[]>(MethodType.Unary, ServiceName, name, Identity, Identity));

    public static Method<byte[], byte[]> RawMethod(string method) => RawMethods[method];

    public static string RestPath(string method) => method switch
    {
        Convolve => "/v1/convolve",
        SeparableConvolve => "/v1/separable-convolve",
        EstimateCost => "/v1/estimate-cost",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "not an RPC of the contract"),
    };
}
