using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Tests;

/// <summary>
/// Depthwise 5x5 and 7x7, stride 1, K/2 columns of padding on each side (at Vector256 the AVX2 kernel) on every width
/// from 1 to 40 and on wide rows around multiples of 512 columns (where it reads through a ring), against the reference,
/// with input and output flush against inaccessible pages (see <see cref="Depthwise3x3EdgeTests.CheckWithinGuardPages"/>).
/// </summary>
public sealed class Depthwise5x5And7x7EdgeTests
{
    public static TheoryData<SimdLevel, int> LevelsAndSizes()
    {
        var data = new TheoryData<SimdLevel, int>();
        foreach (var level in TestData.Levels)
        {
            data.Add(level, 5);
            data.Add(level, 7);
        }

        return data;
    }

    /// <summary>The AVX2 kernel's name for K, when it runs at <paramref name="level"/> on this CPU; otherwise null.</summary>
    private static string? Avx2KernelExpected(SimdLevel level, int kernel) =>
        level == SimdLevel.Vector256 && Avx2.IsSupported && Fma.IsSupported ? $"depthwise-{kernel}x{kernel}-avx2" : null;

    [Theory]
    [MemberData(nameof(LevelsAndSizes))]
    public void EveryWidthHeightMultiplierAndBiasMatchesTheReferenceWithinGuardPages(SimdLevel level, int kernel)
    {
        var random = new Random(1400 + kernel);
        var engines = new[] { TestData.Engine(level, threads: 1), TestData.Engine(level, threads: 2) };
        int pad = kernel / 2;
        int trial = 0;
        for (int width = 1; width <= 40; width++)
        {
            for (int height = 1; height <= 9; height++)
            {
                trial++;
                int channels = 1 + (trial % 2), multiplier = 1 + ((trial / 2) % 2);
                bool withBias = trial % 4 != 0;
                // Vertical padding K/2 on both sides, or less on one side (the kernel reads rows outside the image as zero rows).
                var options = new Conv2dOptions
                {
                    Groups = channels, PadTop = pad - (trial % 5 == 0 ? 1 + (trial % pad) : 0), PadLeft = pad,
                    PadBottom = pad - (trial % 7 == 0 ? 1 : 0), PadRight = pad,
                };
                Conv2dGeometry g;
                try
                {
                    g = ConvShapes.Standard([1, channels, height, width], [channels * multiplier, 1, kernel, kernel], withBias ? [channels * multiplier] : [], options);
                }
                catch (ConvArgumentException)
                {
                    continue; // fewer padded rows than the kernel: no output row
                }

                string algorithm = Depthwise3x3EdgeTests.CheckWithinGuardPages(
                    engines[trial % 2], g, random, withBias, inputAtEnd: trial % 2 == 0, outputAtEnd: (trial / 3) % 2 == 0, $"{level} {g.ShapeSummary} bias {withBias}");
                if (Avx2KernelExpected(level, kernel) is { } expected)
                {
                    Assert.Equal(expected, algorithm);
                }
            }
        }
    }

    /// <summary>Wide rows, including widths near multiples of 512 columns, where the AVX2 kernel copies the input rows into a ring.</summary>
    [Theory]
    [MemberData(nameof(LevelsAndSizes))]
    public void WideRowsMatchTheReferenceWithinGuardPages(SimdLevel level, int kernel)
    {
        var random = new Random(1500 + kernel);
        var engines = new[] { TestData.Engine(level, threads: 1), TestData.Engine(level, threads: 2) };
        int pad = kernel / 2;
        int trial = 0;
        foreach (int width in new[] { 63, 100, 508, 509, 512, 515, 516, 1020, 1021, 1024, 1027, 1031, 2048 })
        {
            foreach (int height in new[] { 1, 4, 9, 19 })
            {
                trial++;
                int channels = 1 + (trial % 2), multiplier = 1 + (trial % 3 == 0 ? 1 : 0);
                var options = new Conv2dOptions { Groups = channels, PadTop = pad, PadLeft = pad, PadBottom = pad - (trial % 4 == 0 ? 1 : 0), PadRight = pad };
                var g = ConvShapes.Standard([1, channels, height, width], [channels * multiplier, 1, kernel, kernel], [channels * multiplier], options);
                string algorithm = Depthwise3x3EdgeTests.CheckWithinGuardPages(
                    engines[trial % 2], g, random, withBias: true, inputAtEnd: trial % 2 == 0, outputAtEnd: (trial / 2) % 2 == 0, $"{level} {g.ShapeSummary}");
                if (Avx2KernelExpected(level, kernel) is { } expected)
                {
                    Assert.Equal(expected, algorithm);
                }
            }
        }
    }

    /// <summary>Planes past half the L3 (2 x 8.4 MB), where the AVX2 kernel prefetches the rows each next group adds (zero rows at the bottom).</summary>
    [Theory]
    [InlineData(5, 1)]
    [InlineData(7, 2)]
    public void PlanesPastHalfTheL3MatchTheReferenceWithinGuardPages(int kernel, int threads)
    {
        var random = new Random(1700 + kernel);
        int pad = kernel / 2;
        var options = new Conv2dOptions { Groups = 1, PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad };
        var g = ConvShapes.Standard([1, 1, 1450, 1451], [1, 1, kernel, kernel], [1], options);
        string algorithm = Depthwise3x3EdgeTests.CheckWithinGuardPages(
            TestData.Engine(SimdLevel.Vector256, threads), g, random, withBias: true, inputAtEnd: kernel == 5, outputAtEnd: kernel == 7, g.ShapeSummary);
        if (Avx2KernelExpected(SimdLevel.Vector256, kernel) is { } expected)
        {
            Assert.Equal(expected, algorithm);
        }
    }

    /// <summary>Geometries next to the AVX2 kernel's that it must not take: they run elsewhere and still match the reference.</summary>
    [Theory]
    [InlineData(5, 5, 2, 1, 2, 2, 2)] // stride 2 on a 2-wide row: one output column, its stride recorded as 1
    [InlineData(7, 7, 3, 1, 2, 3, 3)] // the same for 7x7 (3 columns)
    [InlineData(5, 5, 17, 1, 2, 2, 2)] // stride 2
    [InlineData(7, 7, 17, 1, 2, 3, 3)]
    [InlineData(5, 5, 17, 1, 1, 0, 0)] // no padding
    [InlineData(5, 5, 17, 1, 1, 3, 3)] // padding 3: wider output
    [InlineData(7, 7, 17, 1, 1, 2, 2)] // padding 2: narrower output
    [InlineData(5, 5, 17, 2, 1, 2, 2)] // dilation 2
    [InlineData(7, 7, 17, 1, 1, 3, 2)] // uneven column padding
    [InlineData(5, 5, 17, 1, 1, 4, 0)] // padding on the left only: same width, shifted
    [InlineData(5, 7, 17, 1, 1, 3, 3)] // 5x7
    [InlineData(7, 5, 17, 1, 1, 2, 2)] // 7x5
    [InlineData(3, 3, 17, 1, 1, 1, 1)] // 3x3 (its own kernel)
    public void NeighbouringGeometriesDoNotReachTheAvx2Kernel(int kernelH, int kernelW, int width, int dilation, int stride, int padLeft, int padRight)
    {
        var random = new Random(1600 + width);
        var options = new Conv2dOptions
        {
            Groups = 2, StrideH = stride, StrideW = stride, DilationH = dilation, DilationW = dilation,
            PadTop = kernelH / 2, PadLeft = padLeft, PadBottom = kernelH / 2, PadRight = padRight,
        };
        var g = ConvShapes.Standard([1, 2, 9, width], [4, 1, kernelH, kernelW], [4], options);
        string algorithm = Depthwise3x3EdgeTests.CheckWithinGuardPages(
            TestData.Engine(SimdLevel.Vector256), g, random, withBias: true, inputAtEnd: true, outputAtEnd: false, g.ShapeSummary);
        Assert.NotEqual("depthwise-5x5-avx2", algorithm);
        Assert.NotEqual("depthwise-7x7-avx2", algorithm);
    }
}
