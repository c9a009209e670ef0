using System.Runtime.InteropServices;
using ConvService.Contract.V1;
using Google.Protobuf;
using Grpc.Core;

namespace ConvService.Stress;

/// <summary>
/// One request with its precomputed answer: the gRPC form (raw_data), the REST form (JSON with
/// data) and the expected output with a per-element tolerance. Verify says what is wrong, or null.
/// </summary>
public sealed class CheckedWorkload
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public required string Name { get; init; }
    public required string Kind { get; init; }
    public required string Method { get; init; }
    public required IMessage GrpcRequest { get; init; }
    public required byte[] RestBody { get; init; }
    public required long[] ExpectedShape { get; init; }

    /// <summary>Expected values and tolerances; null when only the shape is checked (too costly to precompute).</summary>
    public required double[]? Expected { get; init; }

    public required double[]? Tolerance { get; init; }

    public required long Multiplications { get; init; }

    public AsyncUnaryCall<ConvolveResponse> CallGrpc(Convolution.ConvolutionClient client, CallOptions options) => GrpcRequest switch
    {
        ConvolveRequest request => client.ConvolveAsync(request, options),
        SeparableConvolveRequest request => client.SeparableConvolveAsync(request, options),
        _ => throw new InvalidOperationException($"workload {Name} has no gRPC call for {GrpcRequest.Descriptor.Name}"),
    };

    public static ConvolveResponse ParseRest(string json) => Parser.Parse<ConvolveResponse>(json);

    public string? Verify(ConvolveResponse response)
    {
        if (response.Output is null)
        {
            return "no output tensor";
        }

        if (!response.Output.Shape.SequenceEqual(ExpectedShape))
        {
            return $"output shape [{string.Join(",", response.Output.Shape)}], expected [{string.Join(",", ExpectedShape)}]";
        }

        if (response.Execution is { } execution && execution.Kind != Kind)
        {
            return $"execution.kind '{execution.Kind}', expected '{Kind}'";
        }

        ReadOnlySpan<float> values = response.Output.RawData.Length > 0
            ? MemoryMarshal.Cast<byte, float>(response.Output.RawData.Span)
            : response.Output.Data.ToArray();
        long expectedCount = 1;
        foreach (long d in ExpectedShape)
        {
            expectedCount *= d;
        }

        if (values.Length != expectedCount)
        {
            return $"{values.Length} output values, expected {expectedCount}";
        }

        if (Expected is null || Tolerance is null)
        {
            return null;
        }

        for (int i = 0; i < values.Length; i++)
        {
            double error = Math.Abs(values[i] - Expected[i]);
            if (!(error <= Tolerance[i]))
            {
                return $"output[{i}] = {values[i]}, expected {Expected[i]} (tolerance {Tolerance[i]:g3})";
            }
        }

        return null;
    }

    public static Tensor RawTensor(long[] shape, float[] values) => new()
    {
        Shape = { shape },
        RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),
    };

    public static Tensor DataTensor(long[] shape, float[] values) => new()
    {
        Shape = { shape },
        Data = { values },
    };

    /// <summary>float32 rounding allowance: relative to the summed magnitudes, plus a tiny absolute floor.</summary>
    public static double[] ToleranceFor(double[] magnitudes) => Array.ConvertAll(magnitudes, m => 1e-4 * m + 1e-6);
}
