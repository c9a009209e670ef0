using ConvService.Compute;

namespace ConvService.Compute.Tests;

/// <summary>
/// Legal requests whose pads or dilation dwarf the input once made the tuned kernels lay out padded
/// rows of gigabytes (a 271-byte request peaked the service at 3.3 GB; found by the fuzz properties).
/// They now run on a buffer-free direct kernel that visits only the taps landing inside the input.
/// </summary>
public sealed class PathologicalPaddingTests
{
    [Fact]
    public void HugeDilationWithSamePaddingRunsWithoutHugeBuffers()
    {
        var options = new Conv2dOptions { DilationH = 65_536, DilationW = 65_536, Padding = PaddingMode.Same };
        var g = ConvShapes.Standard([1, 3, 15], [1, 1, 7, 3], [], options);
        float[] input = Enumerable.Range(0, 45).Select(i => (float)i).ToArray();
        float[] weight = Enumerable.Range(0, 21).Select(i => (float)i).ToArray();
        var output = new float[g.OutputElements];
        long before = Environment.WorkingSet;

        var result = new ConvolutionEngine().Convolve(g, input, weight, [], output);

        // Only the centre tap (row 3, column 1: weight 10) lands inside the input.
        Assert.Equal(input.Select(v => 10 * v), output);
        Assert.Equal("direct-tap-range-scalar", result.Algorithm);
        Assert.True(Environment.WorkingSet - before < 256L << 20, "the engine grew the working set by more than 256 MiB for a 45-element input");
    }

    [Fact]
    public void HugePadsWithHugeStrideRunOnlyOverTheInput()
    {
        var options = new Conv2dOptions { PadTop = 100_000_000, PadBottom = 100_000_000, PadLeft = 7, PadRight = 300_000_000, StrideH = 50_000_000, StrideW = 100_000_000 };
        var g = ConvShapes.Standard([1, 2, 3, 4], [2, 2, 2, 3], [2], options);
        var random = new Random(3);
        var input = TestData.Random(random, g.InputElements);
        var weight = TestData.Random(random, g.WeightElements);
        float[] bias = [0.25f, -0.5f];
        var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);

        var output = new float[g.OutputElements];
        var result = new ConvolutionEngine().Convolve(g, input, weight, bias, output);

        Assert.Equal("direct-tap-range-scalar", result.Algorithm);
        TestData.AssertClose(expected, magnitude, output, g.ShapeSummary);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomPathologicalGeometriesMatchTheReference(int seed)
    {
        var random = new Random(seed);
        for (int trial = 0; trial < 25; trial++)
        {
            int groups = random.Next(1, 3);
            int cin = groups * random.Next(1, 3), cout = groups * random.Next(1, 3);
            int h = random.Next(1, 9), w = random.Next(1, 9), kh = random.Next(1, 4), kw = random.Next(1, 4);
            var options = new Conv2dOptions
            {
                StrideH = random.Next(1, 4),
                StrideW = random.Next(1, 400),
                DilationH = random.Next(1, 200),
                DilationW = random.Next(1, 3),
                PadTop = random.Next(0, 300),
                PadLeft = random.Next(0, 700),
                PadBottom = random.Next(0, 300),
                PadRight = random.Next(0, 3),
                Groups = groups,
            };
            Conv2dGeometry g;
            try
            {
                g = ConvShapes.Standard([2, cin, h, w], [cout, cin / groups, kh, kw], [cout], options);
            }
            catch (ConvArgumentException)
            {
                continue; // e.g. the dilated kernel is larger than the padded input
            }

            var input = TestData.Random(random, g.InputElements);
            var weight = TestData.Random(random, g.WeightElements);
            var bias = TestData.Random(random, cout);
            var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);
            var output = new float[g.OutputElements];

            new ConvolutionEngine().Convolve(g, input, weight, bias, output);

            TestData.AssertClose(expected, magnitude, output, g.ShapeSummary);
        }
    }

    [Fact]
    public void SpatiallySeparableWithHugeDilationMatchesTheReference()
    {
        var g = ConvShapes.SpatiallySeparable([2, 5, 6], 3, 4, new Conv2dOptions { DilationH = 10_000, DilationW = 20_000, Padding = PaddingMode.Same });
        var random = new Random(9);
        var input = TestData.Random(random, g.Equivalent.InputElements);
        float[] column = [0.5f, 1f, -2f], row = [1f, 2f, 3f, -1f];
        var (expected, magnitude) = ReferenceConvolution.SpatiallySeparable(g, input, column, row);
        var output = new float[g.OutputElements];

        var result = new ConvolutionEngine().SpatiallySeparable(g, input, column, row, output);

        Assert.Equal("direct-tap-range-scalar", result.Algorithm);
        TestData.AssertClose(expected, magnitude, output, g.Equivalent.ShapeSummary);
    }
}
