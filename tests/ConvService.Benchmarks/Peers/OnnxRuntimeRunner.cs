using ConvService.Compute;
using Microsoft.ML.OnnxRuntime;

namespace ConvService.Benchmarks.Peers;

/// <summary>
/// ONNX Runtime (CPU execution provider) on a Conv graph written in code, measured at its best:
/// all graph optimisations on, pre-allocated input and output OrtValues bound once with
/// IOBinding, so a call is only the session's own work.
/// </summary>
internal sealed class OnnxRuntimeRunner : IConvRunner
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input;
    private readonly OrtValue _outputValue;
    private readonly OrtIoBinding _binding;
    private readonly float[] _output;

    private OnnxRuntimeRunner(string variant, byte[] model, float[] input, long[] inputShape, long[] outputShape, int threads)
    {
        Variant = variant;
        _options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(model, _options);
        _output = new float[ShapeData.Product(outputShape)];
        Array.Fill(_output, float.NaN);
        _input = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        _outputValue = OrtValue.CreateTensorValueFromMemory(_output, outputShape);
        _binding = _session.CreateIoBinding();
        _binding.BindInput("X", _input);
        _binding.BindOutput("Y", _outputValue);
    }

    public string Library => "onnxruntime";

    public string Variant { get; }

    public string Algorithm => "";

    /// <summary>The shape as one Conv node (two for a depthwise-separable block), as a model would hold it.</summary>
    public static OnnxRuntimeRunner Session(BenchShape shape, ShapeData data, int threads)
    {
        var writer = new OnnxModelWriter().Input("X", shape.InputShape).Output("Y", shape.OutputShape);
        if (shape.Kind == ShapeKind.Standard)
        {
            writer.Initializer("W", shape.WeightShape, data.Weight)
                .Conv("X", "W", WithBias(writer, "B", data.Bias), "Y", shape.StandardGeometry());
        }
        else
        {
            var g = shape.SeparableGeometry();
            writer.Initializer("Wd", shape.WeightShape, data.Weight)
                .Initializer("Wp", shape.PointwiseWeightShape, data.PointwiseWeight)
                .Conv("X", "Wd", WithBias(writer, "Bd", data.Bias), "D", g.Depthwise)
                .Conv("D", "Wp", WithBias(writer, "Bp", data.PointwiseBias), "Y", g.Pointwise);
        }

        return new OnnxRuntimeRunner("session", writer.Build(), data.Input, shape.InputShape, shape.OutputShape, threads);
    }

    /// <summary>A Gaussian as ONNX users separate it by hand: a Kh x 1 Conv, then a 1 x Kw Conv.</summary>
    public static OnnxRuntimeRunner TwoOneDimensionalNodes(BenchShape shape, ShapeData data, int threads)
    {
        var full = shape.StandardGeometry();
        long c = shape.WeightShape[0];
        long kh = shape.WeightShape[2], kw = shape.WeightShape[3];
        var columnOptions = shape.Options with { PadLeft = 0, PadRight = 0 };
        var rowOptions = shape.Options with { PadTop = 0, PadBottom = 0 };
        var column = ConvShapes.Standard(shape.InputShape, [c, 1, kh, 1], [], columnOptions);
        var row = ConvShapes.Standard(column.OutputShape, [c, 1, 1, kw], [], rowOptions);
        var writer = new OnnxModelWriter()
            .Input("X", shape.InputShape).Output("Y", full.OutputShape)
            .Initializer("Wc", [c, 1, kh, 1], Repeat(data.Column, c))
            .Initializer("Wr", [c, 1, 1, kw], Repeat(data.Row, c))
            .Conv("X", "Wc", null, "C", column)
            .Conv("C", "Wr", null, "Y", row);
        return new OnnxRuntimeRunner("two-1d-nodes", writer.Build(), data.Input, shape.InputShape, full.OutputShape, threads);
    }

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    public float[] Output() => (float[])_output.Clone();

    public void Dispose()
    {
        _binding.Dispose();
        _outputValue.Dispose();
        _input.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }

    private static string? WithBias(OnnxModelWriter writer, string name, float[] bias)
    {
        if (bias.Length == 0)
        {
            return null;
        }

        writer.Initializer(name, [bias.Length], bias);
        return name;
    }

    private static float[] Repeat(float[] taps, long times)
    {
        var all = new float[taps.Length * times];
        for (long i = 0; i < times; i++)
        {
            taps.CopyTo(all, i * taps.Length);
        }

        return all;
    }
}
