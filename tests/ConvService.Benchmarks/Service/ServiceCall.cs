using System.Runtime.InteropServices;
using ConvService.Contract.V1;
using Google.Protobuf;

namespace ConvService.Benchmarks.Service;

/// <summary>One request per shape and server, built once; each call sends it and waits for the response.</summary>
internal static class ServiceCall
{
    public static Func<Task<ConvolveResponse>> For(Convolution.ConvolutionClient client, BenchShape shape, ShapeData data)
    {
        var request = Request(shape, data);
        return request switch
        {
            SeparableConvolveRequest separable => async () => await client.SeparableConvolveAsync(separable),
            ConvolveRequest convolve => async () => await client.ConvolveAsync(convolve),
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>The request message the calls send (ConvolveRequest or SeparableConvolveRequest).</summary>
    public static IMessage Request(BenchShape shape, ShapeData data)
    {
        var input = Tensor(shape.InputShape, data.Input);
        if (shape.Kind == ShapeKind.DepthwiseSeparable)
        {
            var request = new SeparableConvolveRequest
            {
                Input = input,
                Options = Options(shape),
                DepthwiseSeparable = new DepthwiseSeparable
                {
                    DepthwiseWeight = Tensor(shape.WeightShape, data.Weight),
                    PointwiseWeight = Tensor(shape.PointwiseWeightShape, data.PointwiseWeight),
                    DepthwiseBias = data.Bias.Length > 0 ? Tensor([data.Bias.Length], data.Bias) : null,
                    PointwiseBias = data.PointwiseBias.Length > 0 ? Tensor([data.PointwiseBias.Length], data.PointwiseBias) : null,
                },
            };
            return request;
        }

        var convolve = new ConvolveRequest
        {
            Input = input,
            Weight = Tensor(shape.WeightShape, data.Weight),
            Bias = data.Bias.Length > 0 ? Tensor([data.Bias.Length], data.Bias) : null,
            Options = Options(shape),
        };
        convolve.Options.Groups = shape.Options.Groups;
        return convolve;
    }

    private static ConvOptions Options(BenchShape shape)
    {
        var o = shape.Options;
        var options = new ConvOptions
        {
            Stride = { o.StrideH, o.StrideW },
            Dilation = { o.DilationH, o.DilationW },
            PaddingMode = (PaddingMode)(int)o.Padding,
        };

        // Pads only go with explicit padding; SAME and VALID must leave them empty.
        if (o.Padding == Compute.PaddingMode.Explicit)
        {
            options.Pads.Add([o.PadTop, o.PadLeft, o.PadBottom, o.PadRight]);
        }

        return options;
    }

    private static Tensor Tensor(long[] shape, float[] values) => new()
    {
        Shape = { shape },
        RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),
    };
}
