namespace ConvService.Compute.Kernels;

/// <summary>
/// An AVX-512 per-channel kernel that <see cref="DepthwiseConvolution{TOps, TVec}"/> runs straight from the input
/// rows (no padded copy): groups of <see cref="Rows"/> output rows, weights in the kernel's packed layout. One
/// driver serves every such kernel; each kernel says which geometries it takes (<see cref="Fits"/>).
/// </summary>
internal unsafe interface IDirectDepthwiseKernel
{
    /// <summary>K of the K x K filter.</summary>
    static abstract int Size { get; }

    /// <summary>Vertical and horizontal stride.</summary>
    static abstract int Stride { get; }

    /// <summary>Output rows per call.</summary>
    static abstract int Rows { get; }

    /// <summary>Input rows per call: <c>(Rows - 1) * Stride + K</c>.</summary>
    static abstract int InputRows { get; }

    /// <summary>Rows below the group's input rows that <see cref="Run"/> may prefetch (0: none); with stride 1, the rows the next group adds.</summary>
    static virtual int PrefetchRows => 0;

    /// <summary>Floats of one filter in the packed layout.</summary>
    static abstract int PackedTaps { get; }

    static abstract bool IsSupported { get; }

    /// <summary>True when the kernel computes <paramref name="g"/> (besides K x K, stride and dilation 1, e.g. its padding).</summary>
    static abstract bool Fits(Conv2dGeometry g);

    /// <summary>One filter's K x K taps (row-major) into the packed layout.</summary>
    static abstract void PackWeights(ReadOnlySpan<float> taps, Span<float> packed);

    /// <summary>
    /// Output rows 0 .. rowCount - 1 of a group from its <see cref="InputRows"/> input rows (zero rows, at least
    /// <see cref="DirectRowShape.InWidth"/> long, outside the image), then the <see cref="PrefetchRows"/> rows below them;
    /// output row j goes to <c>destination + j * shape.OutWidth</c>.
    /// </summary>
    static abstract void Run(float** rows, float* weights, float bias, float* destination, DirectRowShape shape, int rowCount);
}
