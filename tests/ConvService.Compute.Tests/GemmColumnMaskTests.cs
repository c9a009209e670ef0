namespace ConvService.Compute.Tests;

/// <summary>
/// Same-width stride-1 convolutions with horizontal padding read the unpadded input in place and
/// mask the lanes of taps that cross a row edge; strips at the top and bottom gather their B block
/// with row masks instead. Covers both kinds of strip, images made only of edge strips, uneven and
/// dilated pads, groups and batches, and widths past the mask-table cap (padded layout instead).
/// </summary>
public sealed class GemmColumnMaskTests
{
    public static TheoryData<SimdLevel> AllLevels() => TestData.AllLevels();

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void SameWidthPaddedConvolutionsMatchTheReferenceAtOneAndTwoThreads(SimdLevel level)
    {
        var random = new Random(81);
        (long[] Input, long[] Weight, Conv2dOptions Options)[] cases =
        [
            // S5-like rows (56 wide), enough rows for interior strips between the edge ones.
            ([1, 9, 20, 56], [16, 9, 3, 3], new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 }),
            // One and two rows: every strip is an edge strip.
            ([1, 4, 1, 37], [10, 4, 3, 3], new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 }),
            ([2, 3, 2, 70], [12, 3, 3, 3], new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 }),
            // No vertical padding (fewer output rows than input rows), uneven horizontal pads.
            ([1, 5, 11, 29], [8, 5, 3, 3], new Conv2dOptions { PadTop = 0, PadLeft = 2, PadBottom = 0, PadRight = 0 }),
            ([1, 5, 11, 29], [8, 5, 3, 3], new Conv2dOptions { PadTop = 0, PadLeft = 0, PadBottom = 0, PadRight = 2 }),
            // Vertical pads larger than the kernel reach, 5x5, rows narrower than a vector.
            ([1, 3, 9, 7], [14, 3, 5, 5], new Conv2dOptions { PadTop = 3, PadLeft = 2, PadBottom = 1, PadRight = 2 }),
            ([1, 6, 13, 10], [7, 6, 2, 5], new Conv2dOptions { PadTop = 1, PadLeft = 2, PadBottom = 0, PadRight = 2 }),
            // Dilation in both directions.
            ([1, 4, 17, 40], [9, 4, 3, 3], new Conv2dOptions { PadTop = 2, PadLeft = 2, PadBottom = 2, PadRight = 2, DilationH = 2, DilationW = 2 }),
            ([1, 4, 15, 33], [9, 4, 3, 3], new Conv2dOptions { PadTop = 1, PadLeft = 3, PadBottom = 3, PadRight = 3, DilationH = 2, DilationW = 3 }),
            // Groups and batches: every (image, group) reads its own channels.
            ([3, 8, 12, 31], [12, 4, 3, 3], new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1, Groups = 2 }),
            // Wider than the mask-table cap allows for a one-vector phase step: the padded layout.
            ([1, 2, 3, 1531], [8, 2, 3, 3], new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 }),
        ];
        foreach (var (inputShape, weightShape, options) in cases)
        {
            var g = ConvShapes.Standard(inputShape, weightShape, [weightShape[0]], options);
            var input = TestData.Random(random, g.InputElements);
            var weight = TestData.Random(random, g.WeightElements);
            var bias = TestData.Random(random, g.OutChannels);
            var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);
            var single = new float[g.OutputElements];
            var split = new float[g.OutputElements];
            var result = TestData.Engine(level, threads: 1).Convolve(g, input, weight, bias, single);
            TestData.Engine(level, threads: 2).Convolve(g, input, weight, bias, split);
            string context = $"{level} {g.ShapeSummary} ({result.Algorithm})";
            Assert.StartsWith("implicit-gemm-", result.Algorithm);
            TestData.AssertClose(expected, magnitude, single, context);
            Assert.True(single.AsSpan().SequenceEqual(split), context);
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void HugeValuesAtRowEndsDoNotLeakIntoTheNeighbouringRow(SimdLevel level)
    {
        // A masked lane reads the neighbouring row's end: it must contribute exactly zero, so huge
        // values at row ends (checked against each output's own magnitude) must not reach the
        // outputs at the other end of the next or previous row.
        var g = ConvShapes.Standard([1, 3, 12, 21], [5, 3, 3, 3], [], new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 });
        var random = new Random(82);
        var input = TestData.Random(random, g.InputElements);
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < 12; y++)
            {
                input[(((c * 12) + y) * 21) + 20] = 1e30f;
                input[((c * 12) + y) * 21] = -1e30f;
            }
        }

        var weight = TestData.Random(random, g.WeightElements);
        var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, null);
        var actual = new float[g.OutputElements];
        var result = TestData.Engine(level, threads: 1).Convolve(g, input, weight, default, actual);
        TestData.AssertClose(expected, magnitude, actual, $"{level} {g.ShapeSummary} ({result.Algorithm})");
    }
}
