namespace ConvService.Compute.Kernels;

/// <summary>
/// A generated KxK AVX-512 per-channel kernel (stride 1, dilation 1, K / 2 columns of zero padding on
/// each side) that <see cref="DepthwiseConvolution{TOps, TVec}"/> runs straight from the input rows:
/// groups of <see cref="Rows"/> output rows, weights in the kernel's packed layout.
/// </summary>
internal unsafe interface IDirectDepthwiseKernel
{
    /// <summary>K.</summary>
    static abstract int Size { get; }

    /// <summary>Output rows per call.</summary>
    static abstract int Rows { get; }

    /// <summary>Input rows per call: <c>Rows + K - 1</c>.</summary>
    static abstract int InputRows { get; }

    /// <summary>Floats of one filter in the packed layout.</summary>
    static abstract int PackedTaps { get; }

    static abstract bool IsSupported { get; }

    /// <summary>One filter's K x K taps (row-major) into the packed layout.</summary>
    static abstract void PackWeights(ReadOnlySpan<float> taps, Span<float> packed);

    /// <summary>
    /// Output rows 0 .. rowCount - 1 of a group from its <see cref="InputRows"/> input rows (zero rows outside the
    /// image); output row j goes to <c>destination + j * width</c>.
    /// </summary>
    static abstract void Run(float** rows, float* weights, float bias, float* destination, int width, int rowCount);
}
