using BenchmarkDotNet.Attributes;
using ConvService.Compute;

namespace ConvService.Benchmarks;

/// <summary>
/// The spatially separable API (explicit column and row taps) on the image shapes' Gaussians,
/// prepared: the row and column passes alone. Not sealed: BenchmarkDotNet derives from it.
/// </summary>
[MemoryDiagnoser]
public class SpatiallySeparableBenchmarks
{
    private ConvolutionPlan _plan = null!;
    private float[] _input = [];
    private float[] _output = [];

    [Params("S6g", "S6k7g")]
    public string Shape { get; set; } = "S6g";

    [GlobalSetup]
    public void Setup()
    {
        var shape = ShapeCatalogue.Get(Shape);
        var data = ShapeData.Create(shape);
        var engine = new ConvolutionEngine(new ComputeOptions { MaxThreads = 1 });
        _plan = engine.PlanSpatiallySeparable(ConvServiceRunner.SpatialGeometry(shape), data.Column, data.Row);
        _input = data.Input;
        _output = new float[shape.OutputElements];
    }

    [Benchmark]
    public void Execute() => _plan.Execute(_input, _output);
}
