using ConvService.Compute.Kernels;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Tests;

/// <summary>
/// The GEMM path split across threads: images with few strips also split their output channels
/// into panel groups, and padded inputs are padded by the workers inside the parallel job.
/// </summary>
public sealed class GemmThreadSplitTests
{
    public static TheoryData<SimdLevel> AllLevels() => TestData.AllLevels();

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void FewStripImagesSplitOverOutputChannelsAndMatchOneThread(SimdLevel level)
    {
        var one = TestData.Engine(level, threads: 1);
        var two = TestData.Engine(level, threads: 2);
        var random = new Random(77);
        for (int trial = 0; trial < 16; trial++)
        {
            // Small images (one to a few strips), output channels not multiples of 16 (or of 6 and 8).
            int inChannels = random.Next(1, 20);
            int outChannels = random.Next(17, 300);
            int kernel = random.Next(1, 6);
            int h = random.Next(kernel, 15), w = random.Next(kernel, 15);
            int pad = random.Next(0, 3);
            int stride = random.Next(3) == 0 ? 2 : 1;
            var options = new Conv2dOptions { PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad, StrideH = stride, StrideW = stride };
            var g = ConvShapes.Standard([random.Next(1, 3), inChannels, h, w], [outChannels, inChannels, kernel, kernel], [outChannels], options);
            var input = TestData.Random(random, g.InputElements);
            var weight = TestData.Random(random, g.WeightElements);
            var bias = TestData.Random(random, outChannels);
            var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);
            var single = new float[g.OutputElements];
            var split = new float[g.OutputElements];
            var result = one.Convolve(g, input, weight, bias, single);
            two.Convolve(g, input, weight, bias, split);
            string context = $"{level} trial {trial} {g.ShapeSummary} ({result.Algorithm})";
            Assert.Contains("gemm", result.Algorithm, StringComparison.Ordinal);
            TestData.AssertClose(expected, magnitude, split, context);

            // Every output element sums its terms in the same order however the work is split.
            Assert.True(single.AsSpan().SequenceEqual(split), context);
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void LastStripsOfEveryWidthMatchTheReferenceAtOneAndTwoThreads(SimdLevel level)
    {
        var random = new Random(80);
        var padOne = new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 };

        // Output channels for 8-row and 6-row tiles; position counts through every remainder of a
        // 3- or 4-vector strip (narrow two-vector last strips and full-width ones).
        foreach (int outChannels in new[] { 16, 12, 21 })
        {
            for (int width = 1; width <= 70; width++)
            {
                bool pointwise = width % 2 == 0;
                var g = pointwise
                    ? ConvShapes.Standard([1, 5, 1, width], [outChannels, 5, 1, 1], [outChannels], new Conv2dOptions())
                    : ConvShapes.Standard([1, 3, 2, width], [outChannels, 3, 3, 3], [outChannels], padOne);
                var input = TestData.Random(random, g.InputElements);
                var weight = TestData.Random(random, g.WeightElements);
                var bias = TestData.Random(random, outChannels);
                var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);
                foreach (int threads in new[] { 1, 2 })
                {
                    var actual = new float[g.OutputElements];
                    var result = TestData.Engine(level, threads).Convolve(g, input, weight, bias, actual);
                    string context = $"{level} {g.ShapeSummary} threads {threads} ({result.Algorithm})";
                    Assert.True(result.Algorithm.Contains("gemm", StringComparison.Ordinal), context);
                    TestData.AssertClose(expected, magnitude, actual, context);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void PaddedRowsOfEveryVectorRemainderMatchTheReferenceAtOneAndTwoThreads(SimdLevel level)
    {
        var random = new Random(79);

        // Padded row pitches just below, at and past multiples of 16, left pads wider than a vector.
        (int Width, int Left, int Right)[] rows = [(13, 1, 1), (15, 1, 0), (16, 0, 1), (17, 1, 1), (31, 3, 2), (33, 17, 0), (46, 2, 1)];
        foreach (var (width, left, right) in rows)
        {
            var options = new Conv2dOptions { PadTop = 1, PadLeft = left, PadBottom = 2, PadRight = right };
            var g = ConvShapes.Standard([2, 5, random.Next(3, 12), width], [9, 5, 3, 3], [9], options);
            var input = TestData.Random(random, g.InputElements);
            var weight = TestData.Random(random, g.WeightElements);
            var bias = TestData.Random(random, 9);
            var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);
            foreach (int threads in new[] { 1, 2 })
            {
                var actual = new float[g.OutputElements];
                var result = TestData.Engine(level, threads).Convolve(g, input, weight, bias, actual);
                Assert.StartsWith("implicit-gemm-", result.Algorithm);
                TestData.AssertClose(expected, magnitude, actual, $"{level} {g.ShapeSummary} threads {threads} ({result.Algorithm})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void PaddedInputsPaddedByTheWorkersMatchTheReference(SimdLevel level)
    {
        var engine = TestData.Engine(level, threads: 2);
        var random = new Random(78);
        for (int trial = 0; trial < 6; trial++)
        {
            int inChannels = random.Next(1, 40);
            int outChannels = random.Next(1, 70);
            int top = random.Next(0, 3), left = random.Next(0, 3), bottom = random.Next(0, 3), right = random.Next(1, 3);
            var options = new Conv2dOptions { PadTop = top, PadLeft = left, PadBottom = bottom, PadRight = right };
            var g = ConvShapes.Standard([random.Next(1, 3), inChannels, random.Next(20, 60), random.Next(20, 60)], [outChannels, inChannels, 3, 3], [], options);
            var input = TestData.Random(random, g.InputElements);
            var weight = TestData.Random(random, g.WeightElements);
            var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, null);
            var actual = new float[g.OutputElements];
            var result = engine.Convolve(g, input, weight, default, actual);
            TestData.AssertClose(expected, magnitude, actual, $"{level} trial {trial} {g.ShapeSummary} ({result.Algorithm})");
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void PaddedRowsSharingZeroColumnsMatchTheReference(SimdLevel level)
    {
        // Padded rows keep max(padLeft, padRight) zero columns (or the output width, if wider): cover
        // uneven sides, a one-column kernel wider output, dilation, and rows as narrow as a vector.
        var engine = TestData.Engine(level, threads: 2);
        var random = new Random(79);
        (long[] Input, long[] Weight, Conv2dOptions Options)[] cases =
        [
            ([1, 5, 9, 16], [12, 5, 3, 3], new Conv2dOptions { PadTop = 1, PadLeft = 2, PadBottom = 0, PadRight = 0 }),
            ([1, 5, 9, 17], [12, 5, 3, 3], new Conv2dOptions { PadTop = 0, PadLeft = 0, PadBottom = 2, PadRight = 2 }),
            ([1, 4, 8, 16], [9, 4, 4, 1], new Conv2dOptions { PadTop = 1, PadLeft = 3, PadBottom = 1, PadRight = 2, DilationW = 3 }),
            ([2, 3, 7, 15], [20, 3, 3, 5], new Conv2dOptions { PadTop = 2, PadLeft = 4, PadBottom = 2, PadRight = 1, DilationW = 2 }),
            ([1, 6, 12, 12], [30, 6, 5, 5], new Conv2dOptions { PadTop = 2, PadLeft = 2, PadBottom = 2, PadRight = 2 }),
        ];
        foreach (var (inputShape, weightShape, options) in cases)
        {
            var g = ConvShapes.Standard(inputShape, weightShape, [weightShape[0]], options);
            var input = TestData.Random(random, g.InputElements);
            var weight = TestData.Random(random, g.WeightElements);
            var bias = TestData.Random(random, g.OutChannels);
            var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);
            var actual = new float[g.OutputElements];
            var result = engine.Convolve(g, input, weight, bias, actual);
            TestData.AssertClose(expected, magnitude, actual, $"{level} {g.ShapeSummary} ({result.Algorithm})");
        }
    }

    [Fact]
    public void CancelledTokenStopsAPanelSplitExecution()
    {
        var engine = TestData.Engine(SimdLevel.Vector512, threads: 2);
        var g = ConvShapes.Standard([3, 12, 12], [256, 3, 5, 5], [], Conv2dOptions.Default);
        var plan = engine.PlanConvolve(g, new float[g.WeightElements], default);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        for (int i = 0; i < 20; i++)
        {
            Assert.ThrowsAny<OperationCanceledException>(() => plan.Execute(new float[g.InputElements], new float[g.OutputElements], cts.Token));
        }
    }

    [Theory]
    [InlineData(1L, 1, 43, false, 1)]     // one thread never splits panels
    [InlineData(1L, 2, 43, false, 2)]     // S1: one strip, two threads, two panel groups
    [InlineData(3L, 2, 16, false, 2)]     // odd strip count: six items, three per thread
    [InlineData(4L, 2, 16, false, 1)]     // even strip count already divides
    [InlineData(1L, 2, 1, false, 1)]      // a single panel cannot be split
    [InlineData(1L, 4, 3, false, 3)]      // capped by the panel count
    [InlineData(6L, 4, 16, false, 2)]     // twelve items over four threads
    [InlineData(33L, 2, 16, false, 1)]    // many strips: strips alone balance
    [InlineData(67L, 2, 16, true, 2)]     // S5 read in place: two groups for a finer tail
    [InlineData(266L, 2, 8, true, 1)]     // S2: enough strips
    [InlineData(3L, 2, 16, true, 4)]      // in place: doubled while groups keep four panels
    [InlineData(67L, 1, 16, true, 1)]     // never at one thread
    public void PanelGroupsBalanceTheThreads(long stripItems, int threads, int panels, bool inPlaceB, int expected) =>
        Assert.Equal(expected, GemmConvolution<Vector512Ops, System.Runtime.Intrinsics.Vector512<float>>.PanelGroupsFor(stripItems, threads, panels, inPlaceB));
}
