using System.Text;
using ConvService.Contract.V1;
using Google.Protobuf;

namespace ConvService.Stress;

/// <summary>
/// The fixed requests the load, fault and shutdown runs send, with expected answers from the
/// float64 reference. Values are seeded so every run sends the same bytes.
/// </summary>
public static class Workloads
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default);

    /// <summary>Small (about 1M multiplications each) or medium (about 20-75M): one of each kind.</summary>
    public static IReadOnlyList<CheckedWorkload> ForShape(string shape) => shape switch
    {
        "small" =>
        [
            Standard("small-standard", ReferenceGeometry.Same(1, 8, 32, 32, 16, 3, 3, 1, 1), useSame: false, bias: true, seed: 1),
            DepthwiseSeparable("small-depthwise-separable", 1, 8, 32, 32, multiplier: 2, kernel: 3, stride: 1, outChannels: 16, seed: 2),
            SpatiallySeparable("small-spatially-separable", 1, 8, 32, 32, taps: 5, stride: 2, pad: 2, seed: 3),
        ],
        "medium" =>
        [
            Standard("medium-standard", ReferenceGeometry.Same(1, 32, 64, 64, 64, 3, 3, 1, 1), useSame: true, bias: true, seed: 4),
            DepthwiseSeparable("medium-depthwise-separable", 1, 32, 64, 64, multiplier: 1, kernel: 5, stride: 2, outChannels: 64, seed: 5),
            SpatiallySeparable("medium-spatially-separable", 1, 16, 128, 128, taps: 7, stride: 1, pad: 3, seed: 6),
        ],
        _ => throw new ArgumentException($"--shape must be small or medium, got '{shape}'"),
    };

    /// <summary>A costly standard convolution (about 1.7e9 multiplications) for clients that cancel it; only its shape is checked.</summary>
    public static CheckedWorkload Expensive()
    {
        var g = new ReferenceGeometry(1, 64, 128, 128, 64, 5, 5, 1, 1, 2, 2, 2, 2, 1);
        var random = new Random(7);
        float[] input = RandomValues(random, g.InputElements), weight = RandomValues(random, g.WeightElements);
        var options = ExplicitOptions(g);
        var rest = new ConvolveRequest
        {
            Input = CheckedWorkload.DataTensor(InputShape(g), input),
            Weight = CheckedWorkload.DataTensor(WeightShape(g), weight),
            Options = options,
        };
        return new CheckedWorkload
        {
            Name = "expensive-standard",
            Kind = "standard",
            Method = "Convolve",
            GrpcRequest = new ConvolveRequest
            {
                Input = CheckedWorkload.RawTensor(InputShape(g), input),
                Weight = CheckedWorkload.RawTensor(WeightShape(g), weight),
                Options = options,
            },
            RestBody = Encoding.UTF8.GetBytes(Json.Format(rest)),
            ExpectedShape = [1, g.OutChannels, g.OutHeight, g.OutWidth],
            Expected = null,
            Tolerance = null,
            Multiplications = (long)g.OutputElements * g.Channels * g.KernelH * g.KernelW,
        };
    }

    /// <summary>A spatially separable request whose JSON answer is about 10 MB (1M floats), for slow readers over REST.</summary>
    public static CheckedWorkload LargeOutput() => SpatiallySeparable("large-output-spatially-separable", 1, 4, 512, 512, taps: 3, stride: 1, pad: 1, seed: 8);

    private static CheckedWorkload Standard(string name, ReferenceGeometry g, bool useSame, bool bias, int seed)
    {
        var random = new Random(seed);
        float[] input = RandomValues(random, g.InputElements), weight = RandomValues(random, g.WeightElements);
        float[]? biasValues = bias ? RandomValues(random, g.OutChannels) : null;
        var (values, magnitudes) = ReferenceConvolution.Run(g, ReferenceConvolution.Widen(input), ReferenceConvolution.Absolute(input), weight, biasValues);
        var options = useSame ? new ConvOptions { PaddingMode = PaddingMode.Same } : ExplicitOptions(g);
        var grpc = new ConvolveRequest
        {
            Input = CheckedWorkload.RawTensor(InputShape(g), input),
            Weight = CheckedWorkload.RawTensor(WeightShape(g), weight),
            Options = options,
        };
        var rest = new ConvolveRequest
        {
            Input = CheckedWorkload.DataTensor(InputShape(g), input),
            Weight = CheckedWorkload.DataTensor(WeightShape(g), weight),
            Options = options,
        };
        if (biasValues is not null)
        {
            grpc.Bias = CheckedWorkload.RawTensor([g.OutChannels], biasValues);
            rest.Bias = CheckedWorkload.DataTensor([g.OutChannels], biasValues);
        }

        return Checked(name, "standard", "Convolve", grpc, rest, g, values, magnitudes, (long)g.OutputElements * g.Channels / g.Groups * g.KernelH * g.KernelW);
    }

    private static CheckedWorkload DepthwiseSeparable(
        string name, int batch, int channels, int height, int width, int multiplier, int kernel, int stride, int outChannels, int seed)
    {
        var random = new Random(seed);
        var depthwise = ReferenceGeometry.Same(batch, channels, height, width, channels * multiplier, kernel, kernel, stride, channels);
        var pointwise = new ReferenceGeometry(batch, channels * multiplier, depthwise.OutHeight, depthwise.OutWidth, outChannels, 1, 1, 1, 1, 0, 0, 0, 0, 1);
        float[] input = RandomValues(random, depthwise.InputElements);
        float[] dw = RandomValues(random, depthwise.WeightElements), dwBias = RandomValues(random, channels * multiplier);
        float[] pw = RandomValues(random, pointwise.WeightElements), pwBias = RandomValues(random, outChannels);
        var (mid, midMagnitudes) = ReferenceConvolution.Run(depthwise, ReferenceConvolution.Widen(input), ReferenceConvolution.Absolute(input), dw, dwBias);
        var (values, magnitudes) = ReferenceConvolution.Run(pointwise, mid, midMagnitudes, pw, pwBias);
        long[] dwShape = [channels * multiplier, 1, kernel, kernel], pwShape = [outChannels, channels * multiplier, 1, 1];
        var options = new ConvOptions { PaddingMode = PaddingMode.Same, Stride = { stride } };
        var grpc = new SeparableConvolveRequest
        {
            Input = CheckedWorkload.RawTensor(InputShape(depthwise), input),
            DepthwiseSeparable = new DepthwiseSeparable
            {
                DepthwiseWeight = CheckedWorkload.RawTensor(dwShape, dw),
                PointwiseWeight = CheckedWorkload.RawTensor(pwShape, pw),
                DepthwiseBias = CheckedWorkload.RawTensor([channels * multiplier], dwBias),
                PointwiseBias = CheckedWorkload.RawTensor([outChannels], pwBias),
            },
            Options = options,
        };
        var rest = new SeparableConvolveRequest
        {
            Input = CheckedWorkload.DataTensor(InputShape(depthwise), input),
            DepthwiseSeparable = new DepthwiseSeparable
            {
                DepthwiseWeight = CheckedWorkload.DataTensor(dwShape, dw),
                PointwiseWeight = CheckedWorkload.DataTensor(pwShape, pw),
                DepthwiseBias = CheckedWorkload.DataTensor([channels * multiplier], dwBias),
                PointwiseBias = CheckedWorkload.DataTensor([outChannels], pwBias),
            },
            Options = options,
        };
        long multiplications = (long)depthwise.OutputElements * kernel * kernel + (long)pointwise.OutputElements * channels * multiplier;
        return Checked(name, "depthwise_separable", "SeparableConvolve", grpc, rest, pointwise, values, magnitudes, multiplications);
    }

    private static CheckedWorkload SpatiallySeparable(string name, int batch, int channels, int height, int width, int taps, int stride, int pad, int seed)
    {
        var random = new Random(seed);
        var g = new ReferenceGeometry(batch, channels, height, width, channels, taps, taps, stride, 1, pad, pad, pad, pad, channels);
        float[] input = RandomValues(random, g.InputElements), column = RandomValues(random, taps), row = RandomValues(random, taps);

        // Every channel's kernel is the outer product column x row.
        var kernel = new float[g.WeightElements];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < taps; i++)
            {
                for (int j = 0; j < taps; j++)
                {
                    kernel[(c * taps + i) * taps + j] = column[i] * row[j];
                }
            }
        }

        var (values, magnitudes) = ReferenceConvolution.Run(g, ReferenceConvolution.Widen(input), ReferenceConvolution.Absolute(input), kernel, null);
        var options = ExplicitOptions(g);
        var spatial = new SpatiallySeparable { Column = { column }, Row = { row } };
        var grpc = new SeparableConvolveRequest { Input = CheckedWorkload.RawTensor(InputShape(g), input), SpatiallySeparable = spatial, Options = options };
        var rest = new SeparableConvolveRequest { Input = CheckedWorkload.DataTensor(InputShape(g), input), SpatiallySeparable = spatial, Options = options };
        return Checked(name, "spatially_separable", "SeparableConvolve", grpc, rest, g, values, magnitudes, (long)g.OutputElements * 2 * taps);
    }

    private static CheckedWorkload Checked(
        string name, string kind, string method, IMessage grpc, IMessage rest, ReferenceGeometry output, double[] values, double[] magnitudes, long multiplications) => new()
    {
        Name = name,
        Kind = kind,
        Method = method,
        GrpcRequest = grpc,
        RestBody = Encoding.UTF8.GetBytes(Json.Format(rest)),
        ExpectedShape = [output.Batch, output.OutChannels, output.OutHeight, output.OutWidth],
        Expected = values,
        Tolerance = CheckedWorkload.ToleranceFor(magnitudes),
        Multiplications = multiplications,
    };

    private static ConvOptions ExplicitOptions(ReferenceGeometry g) => new()
    {
        Stride = { g.Stride },
        Dilation = { g.Dilation },
        Pads = { g.PadTop, g.PadLeft, g.PadBottom, g.PadRight },
    };

    private static long[] InputShape(ReferenceGeometry g) => [g.Batch, g.Channels, g.Height, g.Width];

    private static long[] WeightShape(ReferenceGeometry g) => [g.OutChannels, g.Channels / g.Groups, g.KernelH, g.KernelW];

    private static float[] RandomValues(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }
}
