namespace ConvService.Compute.Tests;

/// <summary>
/// The definition of the operations, written as plainly as possible in float64 and independent of
/// the engine: for every output element, the sum over its taps, straight from the formulas. Also
/// returns the sum of |term| of every output, which scales the tolerance of a float32 result.
/// </summary>
internal static class ReferenceConvolution
{
    /// <summary>Grouped cross-correlation; NCHW input, OIHW weight, optional bias.</summary>
    public static (double[] Output, double[] Magnitude) Standard(Conv2dGeometry g, float[] input, float[] weight, float[]? bias) =>
        Standard(g, input, Array.ConvertAll(weight, w => (double)w), bias);

    private static (double[] Output, double[] Magnitude) Standard(Conv2dGeometry g, float[] input, double[] weight, float[]? bias)
    {
        var output = new double[g.OutputElements];
        var magnitude = new double[g.OutputElements];
        int cinPerGroup = g.InChannels / g.Groups;
        int coutPerGroup = g.OutChannels / g.Groups;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int co = 0; co < g.OutChannels; co++)
            {
                int group = co / coutPerGroup;
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        double sum = bias == null ? 0 : bias[co];
                        double abs = Math.Abs(sum);
                        for (int ci = 0; ci < cinPerGroup; ci++)
                        {
                            for (int ky = 0; ky < g.KernelH; ky++)
                            {
                                for (int kx = 0; kx < g.KernelW; kx++)
                                {
                                    int iy = (oy * g.StrideH) - g.PadTop + (ky * g.DilationH);
                                    int ix = (ox * g.StrideW) - g.PadLeft + (kx * g.DilationW);
                                    if (iy < 0 || iy >= g.InHeight || ix < 0 || ix >= g.InWidth)
                                    {
                                        continue;
                                    }

                                    double x = input[(((n * g.InChannels) + (group * cinPerGroup) + ci) * g.InHeight + iy) * g.InWidth + ix];
                                    double w = weight[(((co * cinPerGroup) + ci) * g.KernelH + ky) * g.KernelW + kx];
                                    sum += w * x;
                                    abs += Math.Abs(w * x);
                                }
                            }
                        }

                        long index = (((long)n * g.OutChannels + co) * g.OutHeight + oy) * g.OutWidth + ox;
                        output[index] = sum;
                        magnitude[index] = abs;
                    }
                }
            }
        }

        return (output, magnitude);
    }

    /// <summary>Depthwise (groups = C, channel o reads o / M) then pointwise; the magnitude follows the terms through both stages.</summary>
    public static (double[] Output, double[] Magnitude) DepthwiseSeparable(
        DepthwiseSeparableGeometry g, float[] input, float[] depthwise, float[] pointwise, float[]? depthwiseBias, float[]? pointwiseBias)
    {
        var (mid, midMagnitude) = Standard(g.Depthwise, input, depthwise, depthwiseBias);
        var p = g.Pointwise;
        var output = new double[p.OutputElements];
        var magnitude = new double[p.OutputElements];
        int positions = p.OutHeight * p.OutWidth;
        for (int n = 0; n < p.Batch; n++)
        {
            for (int co = 0; co < p.OutChannels; co++)
            {
                for (int pos = 0; pos < positions; pos++)
                {
                    double sum = pointwiseBias == null ? 0 : pointwiseBias[co];
                    double abs = Math.Abs(sum);
                    for (int ci = 0; ci < p.InChannels; ci++)
                    {
                        long midIndex = ((long)n * p.InChannels + ci) * positions + pos;
                        double w = pointwise[co * p.InChannels + ci];
                        sum += w * mid[midIndex];
                        abs += Math.Abs(w) * midMagnitude[midIndex];
                    }

                    long index = ((long)n * p.OutChannels + co) * positions + pos;
                    output[index] = sum;
                    magnitude[index] = abs;
                }
            }
        }

        return (output, magnitude);
    }

    /// <summary>Every channel filtered by the outer product column ⊗ row.</summary>
    public static (double[] Output, double[] Magnitude) SpatiallySeparable(SpatiallySeparableGeometry g, float[] input, float[] column, float[] row)
    {
        var e = g.Equivalent;
        var kernel = new double[e.OutChannels * e.KernelH * e.KernelW];
        for (int c = 0; c < e.OutChannels; c++)
        {
            for (int i = 0; i < e.KernelH; i++)
            {
                for (int j = 0; j < e.KernelW; j++)
                {
                    kernel[(c * e.KernelH + i) * e.KernelW + j] = (double)column[i] * row[j];
                }
            }
        }

        return Standard(e, input, kernel, null);
    }
}
