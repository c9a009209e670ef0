namespace ConvService.Compute.Kernels;

/// <summary>
/// A plain direct convolution for legal but pathological geometries (pads or dilation far larger
/// than the input): it needs no buffer at all, and for each output row and column it computes the
/// range of kernel taps that land inside the input, so the work is bounded by the output size times
/// the input extent however large the padding or the dilated kernel is. The tuned kernels lay out
/// padded rows, whose size grows with the padding; a 300-byte request could make them allocate
/// gigabytes. Weights are either full OIHW or, for spatially separable filters, column ⊗ row
/// shared by every channel (never expanded: Kh x Kw can be enormous).
/// </summary>
internal sealed unsafe class DirectTapRangeConvolution : IConvolutionKernel
{
    private readonly Conv2dGeometry g;
    private readonly float[] weight;
    private readonly float[] column;
    private readonly float[] row;
    private readonly float[] bias;
    private readonly bool separable;

    private DirectTapRangeConvolution(Conv2dGeometry geometry, float[] weight, float[] column, float[] row, float[] bias, bool separable, long multiplications)
    {
        g = geometry;
        this.weight = weight;
        this.column = column;
        this.row = row;
        this.bias = bias;
        this.separable = separable;
        Multiplications = multiplications;
    }

    public string Algorithm => "direct-tap-range-scalar";

    public long Multiplications { get; }

    /// <summary>
    /// True when the padded input or the dilated kernel dwarfs the real input along an axis, so the
    /// tuned kernels' laid-out rows would cost far more memory than the request's own tensors.
    /// </summary>
    public static bool Suits(Conv2dGeometry g) =>
        IsBlownUp(g.InHeight, (long)g.InHeight + g.PadTop + g.PadBottom)
        || IsBlownUp(g.InWidth, (long)g.InWidth + g.PadLeft + g.PadRight);

    public static DirectTapRangeConvolution ForWeights(Conv2dGeometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) =>
        new(g, weight.ToArray(), [], [], bias.ToArray(), separable: false, g.Multiplications);

    /// <summary>A spatially separable filter: every channel filtered by column ⊗ row (depthwise, no bias).</summary>
    public static DirectTapRangeConvolution ForSeparable(Conv2dGeometry g, ReadOnlySpan<float> column, ReadOnlySpan<float> row) =>
        new(g, [], column.ToArray(), row.ToArray(), [], separable: true, g.OutputElements * ((long)g.KernelH + g.KernelW));

    public void Execute(float* input, long inputLength, float* output, int maxThreads, CancellationToken cancellationToken)
    {
        int cinPerGroup = g.InChannelsPerGroup, coutPerGroup = g.OutChannelsPerGroup;
        long inPlane = (long)g.InHeight * g.InWidth, outPlane = (long)g.OutHeight * g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int co = 0; co < g.OutChannels; co++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int group = co / coutPerGroup;
                float* outPlaneStart = output + ((long)n * g.OutChannels + co) * outPlane;
                float b = bias.Length == 0 ? 0f : bias[co];
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    var (kyFirst, kyLast) = TapRange((long)oy * g.StrideH - g.PadTop, g.DilationH, g.KernelH, g.InHeight);
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        var (kxFirst, kxLast) = TapRange((long)ox * g.StrideW - g.PadLeft, g.DilationW, g.KernelW, g.InWidth);
                        double sum = 0;
                        for (int ci = 0; ci < cinPerGroup; ci++)
                        {
                            float* plane = input + ((long)n * g.InChannels + group * cinPerGroup + ci) * inPlane;
                            for (long ky = kyFirst; ky <= kyLast; ky++)
                            {
                                float* inputRow = plane + ((long)oy * g.StrideH - g.PadTop + ky * g.DilationH) * g.InWidth;
                                for (long kx = kxFirst; kx <= kxLast; kx++)
                                {
                                    float x = inputRow[(long)ox * g.StrideW - g.PadLeft + kx * g.DilationW];
                                    float w = separable
                                        ? column[ky] * row[kx]
                                        : weight[(((long)co * cinPerGroup + ci) * g.KernelH + ky) * g.KernelW + kx];
                                    sum += (double)x * w;
                                }
                            }
                        }

                        outPlaneStart[(long)oy * g.OutWidth + ox] = (float)sum + b;
                    }
                }
            }
        }
    }

    /// <summary>Taps k in [0, taps) with 0 &lt;= start + k * dilation &lt; extent, as an inclusive range (empty when first &gt; last).</summary>
    private static (long First, long Last) TapRange(long start, long dilation, long taps, long extent)
    {
        long first = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
        long last = Math.Min(taps - 1, start >= extent ? -1 : (extent - 1 - start) / dilation);
        return (first, last);
    }

    private static bool IsBlownUp(long inputExtent, long paddedExtent) => paddedExtent > 3 * inputExtent + 256;
}
