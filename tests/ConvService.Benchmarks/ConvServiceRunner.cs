using ConvService.Compute;

namespace ConvService.Benchmarks;

/// <summary>Which way our engine is called.</summary>
internal enum OurVariant
{
    /// <summary>Plan built once (weights packed once), Execute per call.</summary>
    Prepared,

    /// <summary>Convolve / DepthwiseSeparable per call: plan, pack and run, as a service call does.</summary>
    OneShot,

    /// <summary>A Gaussian sent through the spatially separable API with its explicit 1-D factors, prepared.</summary>
    ExplicitSeparable,
}

/// <summary>Our ConvolutionEngine on one shape, in one of the <see cref="OurVariant"/> ways.</summary>
internal sealed class ConvServiceRunner : IConvRunner
{
    private readonly BenchShape _shape;
    private readonly ShapeData _data;
    private readonly OurVariant _variant;
    private readonly ConvolutionEngine _engine;
    private readonly ConvolutionPlan? _plan;
    private readonly float[] _output;
    private string _algorithm = "";

    public ConvServiceRunner(BenchShape shape, ShapeData data, int threads, OurVariant variant)
    {
        _shape = shape;
        _data = data;
        _variant = variant;
        _engine = new ConvolutionEngine(new ComputeOptions { MaxThreads = threads });
        _output = new float[shape.OutputElements];
        // NaN marks anything the engine fails to write; the fill also pre-touches the pages.
        Array.Fill(_output, float.NaN);
        _plan = variant switch
        {
            OurVariant.Prepared when shape.Kind == ShapeKind.Standard =>
                _engine.PlanConvolve(shape.StandardGeometry(), data.Weight, data.Bias),
            OurVariant.Prepared =>
                _engine.PlanDepthwiseSeparable(shape.SeparableGeometry(), data.Weight, data.PointwiseWeight, data.Bias, data.PointwiseBias),
            OurVariant.ExplicitSeparable =>
                _engine.PlanSpatiallySeparable(SpatialGeometry(shape), data.Column, data.Row),
            _ => null,
        };
        _algorithm = _plan?.Algorithm ?? "";
    }

    public string Library => "convservice";

    public string Variant => _variant switch
    {
        OurVariant.Prepared => "prepared",
        OurVariant.OneShot => "one-shot",
        _ => "explicit-separable",
    };

    public string Algorithm => _algorithm;

    public static SpatiallySeparableGeometry SpatialGeometry(BenchShape shape) =>
        ConvShapes.SpatiallySeparable(shape.InputShape, shape.WeightShape[2], shape.WeightShape[3], shape.Options);

    public void Run()
    {
        if (_plan is not null)
        {
            _plan.Execute(_data.Input, _output);
            return;
        }

        // One-shot: geometry validation is part of a service call, so it is timed too.
        var result = _shape.Kind == ShapeKind.Standard
            ? _engine.Convolve(_shape.StandardGeometry(), _data.Input, _data.Weight, _data.Bias, _output)
            : _engine.DepthwiseSeparable(
                _shape.SeparableGeometry(), _data.Input, _data.Weight, _data.PointwiseWeight, _data.Bias, _data.PointwiseBias, _output);
        _algorithm = result.Algorithm;
    }

    public float[] Output() => (float[])_output.Clone();

    public void Dispose()
    {
        // Nothing to release: the engine and its plans expose no disposable resources.
    }
}
