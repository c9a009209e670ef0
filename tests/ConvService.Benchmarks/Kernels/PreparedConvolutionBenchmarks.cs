using BenchmarkDotNet.Attributes;
using ConvService.Compute;

namespace ConvService.Benchmarks;

/// <summary>
/// A reused plan's Execute on the shapes: standard (S1, S2, S5), depthwise (S3), pointwise
/// (S4), a rank-1 kernel sent as 2-D (S6g), RGB depthwise 7x7 (S7) and the depthwise-separable block (S8). Allocated
/// bytes per call must be zero in steady state. Not sealed: BenchmarkDotNet derives from it.
/// </summary>
[MemoryDiagnoser]
public class PreparedConvolutionBenchmarks
{
    private ConvolutionPlan _plan = null!;
    private float[] _input = [];
    private float[] _output = [];

    [Params("S1", "S2", "S3", "S4", "S5", "S6g", "S7", "S8")]
    public string Shape { get; set; } = "S1";

    // Two threads exercise the compute pool's fork/join, which must not allocate either.
    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        var shape = ShapeCatalogue.Get(Shape);
        var data = ShapeData.Create(shape);
        var engine = new ConvolutionEngine(new ComputeOptions { MaxThreads = Threads });
        _plan = shape.Kind == ShapeKind.Standard
            ? engine.PlanConvolve(shape.StandardGeometry(), data.Weight, data.Bias)
            : engine.PlanDepthwiseSeparable(shape.SeparableGeometry(), data.Weight, data.PointwiseWeight, data.Bias, data.PointwiseBias);
        _input = data.Input;
        _output = new float[shape.OutputElements];
    }

    [Benchmark]
    public void Execute() => _plan.Execute(_input, _output);
}
