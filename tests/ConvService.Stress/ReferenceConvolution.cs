namespace ConvService.Stress;

/// <summary>
/// A plainly written float64 cross-correlation used to precompute the answers the service must
/// give. Alongside each value it carries the magnitude of the terms (sum of |x*w| + |bias|) so the
/// comparison can allow float32 rounding proportional to what was summed.
/// </summary>
public static class ReferenceConvolution
{
    public static (double[] Values, double[] Magnitudes) Run(
        ReferenceGeometry g, double[] input, double[] inputMagnitudes, float[] weight, float[]? bias)
    {
        int outH = g.OutHeight, outW = g.OutWidth;
        int inPerGroup = g.Channels / g.Groups, outPerGroup = g.OutChannels / g.Groups;
        var values = new double[g.OutputElements];
        var magnitudes = new double[g.OutputElements];
        for (int n = 0; n < g.Batch; n++)
        {
            for (int o = 0; o < g.OutChannels; o++)
            {
                int group = o / outPerGroup;
                for (int y = 0; y < outH; y++)
                {
                    for (int x = 0; x < outW; x++)
                    {
                        double sum = bias?[o] ?? 0, magnitude = Math.Abs(bias?[o] ?? 0);
                        for (int ci = 0; ci < inPerGroup; ci++)
                        {
                            int c = group * inPerGroup + ci;
                            for (int ky = 0; ky < g.KernelH; ky++)
                            {
                                int iy = y * g.Stride - g.PadTop + ky * g.Dilation;
                                if (iy < 0 || iy >= g.Height)
                                {
                                    continue;
                                }

                                for (int kx = 0; kx < g.KernelW; kx++)
                                {
                                    int ix = x * g.Stride - g.PadLeft + kx * g.Dilation;
                                    if (ix < 0 || ix >= g.Width)
                                    {
                                        continue;
                                    }

                                    int at = ((n * g.Channels + c) * g.Height + iy) * g.Width + ix;
                                    double w = weight[((o * inPerGroup + ci) * g.KernelH + ky) * g.KernelW + kx];
                                    sum += input[at] * w;
                                    magnitude += inputMagnitudes[at] * Math.Abs(w);
                                }
                            }
                        }

                        int outAt = ((n * g.OutChannels + o) * outH + y) * outW + x;
                        values[outAt] = sum;
                        magnitudes[outAt] = magnitude;
                    }
                }
            }
        }

        return (values, magnitudes);
    }

    public static double[] Widen(float[] values) => Array.ConvertAll(values, v => (double)v);

    public static double[] Absolute(float[] values) => Array.ConvertAll(values, v => Math.Abs((double)v));
}
