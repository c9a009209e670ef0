namespace ConvService.Api.Tests;

/// <summary>
/// A plainly written float64 cross-correlation (NCHW input, OIHW weights, groups, stride, dilation,
/// explicit pads), independent of the service's code, to check what the service returns.
/// </summary>
internal static class ReferenceConvolution
{
    public sealed record Result(double[] Values, int Channels, int Height, int Width);

    public static Result Conv2d(
        float[] input, int n, int c, int h, int w,
        float[] weight, int cout, int kh, int kw,
        float[]? bias = null, int strideH = 1, int strideW = 1, int dilationH = 1, int dilationW = 1,
        int padTop = 0, int padLeft = 0, int padBottom = 0, int padRight = 0, int groups = 1)
    {
        int oh = (h + padTop + padBottom - dilationH * (kh - 1) - 1) / strideH + 1;
        int ow = (w + padLeft + padRight - dilationW * (kw - 1) - 1) / strideW + 1;
        int cinPerGroup = c / groups, coutPerGroup = cout / groups;
        var output = new double[n * cout * oh * ow];
        for (int b = 0; b < n; b++)
        {
            for (int o = 0; o < cout; o++)
            {
                int g = o / coutPerGroup;
                for (int y = 0; y < oh; y++)
                {
                    for (int x = 0; x < ow; x++)
                    {
                        double sum = bias is null ? 0 : bias[o];
                        for (int ci = 0; ci < cinPerGroup; ci++)
                        {
                            for (int i = 0; i < kh; i++)
                            {
                                for (int j = 0; j < kw; j++)
                                {
                                    int iy = y * strideH - padTop + i * dilationH;
                                    int ix = x * strideW - padLeft + j * dilationW;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                    {
                                        continue;
                                    }

                                    int channel = g * cinPerGroup + ci;
                                    sum += (double)input[((b * c + channel) * h + iy) * w + ix] * weight[((o * cinPerGroup + ci) * kh + i) * kw + j];
                                }
                            }
                        }

                        output[((b * cout + o) * oh + y) * ow + x] = sum;
                    }
                }
            }
        }

        return new Result(output, cout, oh, ow);
    }

    public static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<float> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            double tolerance = 1e-4 * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
