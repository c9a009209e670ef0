namespace ConvService.Compute.Tests;

/// <summary>Rank-1 kernels sent to Convolve run as column + row passes and still match the direct definition.</summary>
public sealed class AutoSeparationTests
{
    public static TheoryData<SimdLevel> AllLevels() => TestData.AllLevels();

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void GaussianSentAsATwoDimensionalKernelIsSeparatedAndMatchesTheReference(SimdLevel level)
    {
        var engine = TestData.Engine(level);
        var random = new Random(5);
        foreach (int k in new[] { 3, 5, 7 })
        {
            var g = ConvShapes.Standard([1, 1, 37, 70], [1, 1, k, k], [], new Conv2dOptions { Padding = PaddingMode.Same });
            var kernel = Gaussian2d(k, sigma: 0.3 * (k / 2.0 - 1) + 0.8);
            var input = TestData.Random(random, g.InputElements);
            var (expected, magnitude) = ReferenceConvolution.Standard(g, input, kernel, null);
            var actual = new float[g.OutputElements];
            var result = engine.Convolve(g, input, kernel, default, actual);
            Assert.StartsWith("auto-separable-rank1-", result.Algorithm);
            Assert.Equal(g.OutputElements * (2L * k), result.Multiplications);
            TestData.AssertClose(expected, magnitude, actual, $"{level} gaussian {k}x{k}");
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void PerChannelRankOneKernelsWithMultiplierStrideAndDilationAreSeparated(SimdLevel level)
    {
        var engine = TestData.Engine(level, threads: 2);
        var random = new Random(6);
        var g = ConvShapes.Standard([2, 3, 29, 41], [6, 1, 4, 5], [6],
            new Conv2dOptions { Groups = 3, StrideH = 2, StrideW = 3, DilationW = 2, PadTop = 3, PadLeft = 1, PadBottom = 0, PadRight = 4 });
        var weight = new float[g.WeightElements];
        for (int o = 0; o < 6; o++)
        {
            var column = TestData.Random(random, 4);
            var row = TestData.Random(random, 5);
            for (int i = 0; i < 4; i++)
            {
                for (int j = 0; j < 5; j++)
                {
                    weight[(o * 20) + (i * 5) + j] = column[i] * row[j];
                }
            }
        }

        var input = TestData.Random(random, g.InputElements);
        var bias = TestData.Random(random, 6);
        var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);
        var actual = new float[g.OutputElements];
        var result = engine.Convolve(g, input, weight, bias, actual);
        Assert.StartsWith("auto-separable-rank1-", result.Algorithm);
        TestData.AssertClose(expected, magnitude, actual, $"{level} {g.ShapeSummary}");
    }

    [Fact]
    public void NotQuiteRankOneKernelsKeepTheDirectPath()
    {
        var engine = TestData.Engine(SimdLevel.Vector512);
        var g = ConvShapes.Standard([1, 1, 32, 32], [1, 1, 5, 5], [], new Conv2dOptions { Padding = PaddingMode.Same });
        var kernel = Gaussian2d(5, 1.0);
        kernel[7] *= 1.0001f; // a relative change far above float32 rounding
        var plan = engine.PlanConvolve(g, kernel, default);
        Assert.StartsWith("depthwise-", plan.Algorithm);

        var generic = TestData.Random(new Random(3), 25);
        Assert.StartsWith("depthwise-", engine.PlanConvolve(g, generic, default).Algorithm);
    }

    [Fact]
    public void OneOfManyChannelsNotRankOneKeepsTheDirectPath()
    {
        var engine = TestData.Engine(SimdLevel.Vector512);
        var g = ConvShapes.Standard([2, 8, 8], [2, 1, 3, 3], [], new Conv2dOptions { Groups = 2 });
        float[] weight = [.. Gaussian2d(3, 1.0), 1, 0, 0, 0, 1, 0, 0, 0, 1];
        Assert.StartsWith("depthwise-", engine.PlanConvolve(g, weight, default).Algorithm);
    }

    [Fact]
    public void RoundedOuterProductsAreRecognised()
    {
        var column = new float[] { 0.1f, -2.5f, 3.25f, 1e-3f, 7f, 0.3f };
        var row = new float[] { 1.5f, -0.2f, 0.7f, 4f, 0.001f };
        var kernel = new float[30];
        for (int i = 0; i < 6; i++)
        {
            for (int j = 0; j < 5; j++)
            {
                kernel[(i * 5) + j] = column[i] * row[j];
            }
        }

        var c = new float[6];
        var r = new float[5];
        Assert.True(Planning.RankOneFactorization.TryFactor(kernel, 6, 5, c, r));
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal(kernel[i], c[i / 5] * r[i % 5], 5e-6f * 7 * 4);
        }

        kernel[29] = float.NaN;
        Assert.False(Planning.RankOneFactorization.TryFactor(kernel, 6, 5, c, r));
    }

    /// <summary>A normalised Gaussian computed directly in 2-D (as a user would send it), rounded to float32 entry by entry.</summary>
    internal static float[] Gaussian2d(int k, double sigma)
    {
        var kernel = new double[k * k];
        double sum = 0;
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++)
            {
                double y = i - (k - 1) / 2.0, x = j - (k - 1) / 2.0;
                kernel[(i * k) + j] = Math.Exp(-((x * x) + (y * y)) / (2 * sigma * sigma));
                sum += kernel[(i * k) + j];
            }
        }

        return Array.ConvertAll(kernel, v => (float)(v / sum));
    }
}
