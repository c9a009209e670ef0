using ConvService.Compute;

namespace ConvService.Benchmarks;

/// <summary>Which API of ours a shape goes through.</summary>
internal enum ShapeKind
{
    /// <summary>ConvolutionEngine.Convolve / PlanConvolve (standard, pointwise, depthwise via groups).</summary>
    Standard,

    /// <summary>ConvolutionEngine.DepthwiseSeparable / PlanDepthwiseSeparable.</summary>
    DepthwiseSeparable,
}

/// <summary>How OpenCV can compute a shape, if at all.</summary>
internal enum OpenCvForm
{
    /// <summary>OpenCV has no equivalent (multi-channel sums).</summary>
    None,

    /// <summary>One single-channel image, Filter2D.</summary>
    Filter2D,

    /// <summary>One single-channel image, Filter2D and SepFilter2D (the kernel is column x row).</summary>
    Filter2DAndSeparable,

    /// <summary>Planar channels interleaved into one multi-channel image, Filter2D (same kernel on every channel).</summary>
    InterleavedFilter2D,
}

/// <summary>
/// One benchmark case of issue 3's table: shapes and options as our API takes them. Depthwise
/// separable shapes use <see cref="WeightShape"/> for the depthwise stage and
/// <see cref="PointwiseWeightShape"/> for the pointwise stage.
/// </summary>
internal sealed record BenchShape
{
    public required string Id { get; init; }
    public required string Description { get; init; }
    public required ShapeKind Kind { get; init; }
    public required long[] InputShape { get; init; }
    public required long[] WeightShape { get; init; }
    public long[] PointwiseWeightShape { get; init; } = [];
    public required Conv2dOptions Options { get; init; }
    public bool HasBias { get; init; }

    /// <summary>Kernels built as the outer product of a 1-D Gaussian with itself (rank 1), not random.</summary>
    public bool GaussianKernel { get; init; }

    /// <summary>Every channel gets the same kernel (needed where a peer filters all channels with one kernel).</summary>
    public bool SharedChannelKernel { get; init; }

    public OpenCvForm OpenCv { get; init; } = OpenCvForm.None;

    /// <summary>Geometry of the standard convolution (Kind = Standard).</summary>
    public Conv2dGeometry StandardGeometry() =>
        ConvShapes.Standard(InputShape, WeightShape, HasBias ? [WeightShape[0]] : [], Options);

    /// <summary>Geometry of the depthwise-separable block (Kind = DepthwiseSeparable).</summary>
    public DepthwiseSeparableGeometry SeparableGeometry() =>
        ConvShapes.DepthwiseSeparable(
            InputShape, WeightShape, PointwiseWeightShape,
            HasBias ? [WeightShape[0]] : [], HasBias ? [PointwiseWeightShape[0]] : [], Options);

    /// <summary>Multiplications of the direct algorithm: the common yardstick for GFLOP/s of every library.</summary>
    public long DirectMultiplications => Kind == ShapeKind.Standard
        ? StandardGeometry().Multiplications
        : SeparableGeometry().Multiplications;

    public long[] OutputShape => Kind == ShapeKind.Standard
        ? StandardGeometry().OutputShape
        : SeparableGeometry().OutputShape;

    public long OutputElements => Kind == ShapeKind.Standard
        ? StandardGeometry().OutputElements
        : SeparableGeometry().OutputElements;
}
