using ConvService.Compute.Kernels;

namespace ConvService.Compute.Tests;

/// <summary>
/// Fused depthwise-separable bands at several threads: full bands in whole rounds, then the rows
/// left over cut into one piece per thread; every cut must still cover the image exactly once.
/// </summary>
public sealed class FusedBandScheduleTests
{
    public static TheoryData<SimdLevel> AllLevels() => TestData.AllLevels();

    [Fact]
    public void SchedulesCoverEveryRowOnceWithFullRoundsThenOnePiecePerThread()
    {
        for (int height = 1; height <= 90; height++)
        {
            for (int bandRows = 1; bandRows <= 17; bandRows += 4)
            {
                for (int threads = 1; threads <= 5; threads++)
                {
                    var s = BandSchedule.For(height, bandRows, threads);
                    string context = $"height {height} band {bandRows} threads {threads}";
                    int next = 0;
                    for (int i = 0; i < s.Count; i++)
                    {
                        Assert.True(s.Starts[i] == next, context);
                        Assert.InRange(s.Rows[i], 1, bandRows);
                        next += s.Rows[i];
                    }

                    Assert.True(next == height, context);
                    int full = s.Rows.TakeWhile(r => r == bandRows).Count();
                    if (threads == 1)
                    {
                        Assert.True(full >= s.Count - 1, context);
                        continue;
                    }

                    // The full bands come in whole rounds; the pieces after them differ by at most one row.
                    int roundBands = height / bandRows / threads * threads;
                    var pieces = s.Rows.Skip(roundBands).ToArray();
                    Assert.True(s.Rows.Take(roundBands).All(r => r == bandRows), context);
                    Assert.True(pieces.Length <= threads, context);
                    Assert.True(pieces.Length == 0 || pieces.Max() - pieces.Min() <= 1, context);
                }
            }
        }
    }

    [Fact]
    public void BusiestThreadRowsFollowInOrderClaims()
    {
        // S8: 56 rows in bands of 12. Whole bands leave one thread 12+12+8 against 12+12; pieces give 12+12+4 each.
        var uniform = BandSchedule.For(56, 12, 1);
        var split = BandSchedule.For(56, 12, 2);
        Assert.Equal([12, 12, 12, 12, 8], uniform.Rows);
        Assert.Equal([12, 12, 12, 12, 4, 4], split.Rows);
        Assert.Equal(32, uniform.BusiestThreadRows(1, 2));
        Assert.Equal(28, split.BusiestThreadRows(1, 2));
        Assert.Equal(56, uniform.BusiestThreadRows(1, 1));

        // Two images of 5 bands: 12,12,12,12,8 | 12,12,12,12,8 claimed in order by 2 threads.
        Assert.Equal(56, uniform.BusiestThreadRows(2, 2));
        Assert.Equal(56, split.BusiestThreadRows(2, 2));
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void FusedBandsWithLeftoverRowsMatchTheReferenceAtOneAndTwoThreads(SimdLevel level)
    {
        var random = new Random(91);
        var padOne = new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 };

        // Heights that leave no rows, a few rows, and most of a round over after the full bands; widths and channels off multiples of 16.
        (long[] Input, int Out)[] cases = [([1, 64, 37, 61], 20), ([2, 64, 75, 61], 33), ([1, 72, 100, 45], 17)];
        foreach (var (inputShape, outChannels) in cases)
        {
            long mid = inputShape[^3];
            var g = ConvShapes.DepthwiseSeparable(inputShape, [mid, 1, 3, 3], [outChannels, mid, 1, 1], [mid], [outChannels], padOne);
            var input = TestData.Random(random, g.Depthwise.InputElements);
            var dw = TestData.Random(random, g.Depthwise.WeightElements);
            var pw = TestData.Random(random, g.Pointwise.WeightElements);
            var dwb = TestData.Random(random, mid);
            var pwb = TestData.Random(random, outChannels);
            var (expected, magnitude) = ReferenceConvolution.DepthwiseSeparable(g, input, dw, pw, dwb, pwb);
            foreach (int threads in new[] { 1, 2 })
            {
                var actual = new float[g.OutputElements];
                var result = TestData.Engine(level, threads).DepthwiseSeparable(g, input, dw, pw, dwb, pwb, actual);
                Assert.StartsWith("fused-depthwise-pointwise-", result.Algorithm);
                TestData.AssertClose(expected, magnitude, actual, $"{level} {g.Depthwise.ShapeSummary} threads {threads}");
            }
        }
    }
}
