using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Tests;

/// <summary>
/// Depthwise 3x3, stride 1, one column of padding on each side (the direct kernels' geometry, at Vector256 the AVX2
/// kernel) on every width from 1 to 40, against the reference, with input and output flush against inaccessible pages
/// (a read or write past either end crashes the run) and NaN or a sentinel in the accessible floats around them.
/// </summary>
public sealed class Depthwise3x3EdgeTests
{
    private const float OutputGuard = 12345f;

    public static TheoryData<SimdLevel> Levels() => TestData.AllLevels();

    /// <summary>The AVX2 kernel runs this geometry at Vector256 when the CPU has AVX2 and FMA.</summary>
    private static bool Avx2KernelExpected(SimdLevel level) => level == SimdLevel.Vector256 && Avx2.IsSupported && Fma.IsSupported;

    [Theory]
    [MemberData(nameof(Levels))]
    public void EveryWidthHeightMultiplierAndBiasMatchesTheReferenceWithinGuardPages(SimdLevel level)
    {
        var random = new Random(1100);
        var engines = new[] { TestData.Engine(level, threads: 1), TestData.Engine(level, threads: 2) };
        int trial = 0;
        for (int width = 1; width <= 40; width++)
        {
            for (int height = 1; height <= 6; height++)
            {
                trial++;
                int channels = 1 + (trial % 2), multiplier = 1 + (trial % 3);
                bool withBias = trial % 4 != 0;
                // Vertical padding 1 on both sides, or uneven (the kernel reads rows outside the image as zero rows).
                var options = new Conv2dOptions { Groups = channels, PadTop = 1 - (trial % 5 == 0 ? 1 : 0), PadLeft = 1, PadBottom = 1 + (trial % 7 == 0 ? 1 : 0), PadRight = 1 };
                Conv2dGeometry g;
                try
                {
                    g = ConvShapes.Standard([1, channels, height, width], [channels * multiplier, 1, 3, 3], withBias ? [channels * multiplier] : [], options);
                }
                catch (ConvArgumentException)
                {
                    continue; // one row and no top padding: no output row
                }

                string algorithm = CheckWithinGuardPages(engines[trial % 2], g, random, withBias, inputAtEnd: trial % 2 == 0, outputAtEnd: (trial / 2) % 2 == 0, $"{level} {g.ShapeSummary} bias {withBias}");
                if (Avx2KernelExpected(level))
                {
                    Assert.Equal("depthwise-3x3-avx2", algorithm);
                }
            }
        }
    }

    /// <summary>Widths near multiples of 1024 columns, where the AVX2 kernel runs two output rows per pass.</summary>
    [Theory]
    [MemberData(nameof(Levels))]
    public void RowsSharingCacheSetsMatchTheReferenceWithinGuardPages(SimdLevel level)
    {
        var random = new Random(1300);
        var engines = new[] { TestData.Engine(level, threads: 1), TestData.Engine(level, threads: 2) };
        int trial = 0;
        foreach (int width in new[] { 1020, 1021, 1023, 1024, 1027, 2048, 3075 })
        {
            foreach (int height in new[] { 1, 2, 3, 5 })
            {
                trial++;
                int channels = 1 + (trial % 2), multiplier = 1 + (trial % 3 == 0 ? 1 : 0);
                var options = new Conv2dOptions { Groups = channels, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 };
                var g = ConvShapes.Standard([1, channels, height, width], [channels * multiplier, 1, 3, 3], [channels * multiplier], options);
                string algorithm = CheckWithinGuardPages(engines[trial % 2], g, random, withBias: true, inputAtEnd: trial % 2 == 0, outputAtEnd: (trial / 2) % 2 == 0, $"{level} {g.ShapeSummary}");
                if (Avx2KernelExpected(level))
                {
                    Assert.Equal("depthwise-3x3-avx2", algorithm);
                }
            }
        }
    }

    /// <summary>Geometries next to the AVX2 kernel's that it must not take: they run elsewhere and still match the reference.</summary>
    [Theory]
    [InlineData(2, 1, 2, 1, 1)] // stride 2 on a 2-wide row: one output column, its stride recorded as 1
    [InlineData(17, 1, 2, 1, 1)] // stride 2
    [InlineData(17, 1, 1, 0, 1)] // no padding
    [InlineData(17, 1, 1, 2, 1)] // padding 2: wider output
    [InlineData(17, 2, 1, 2, 1)] // dilation 2
    [InlineData(17, 1, 1, 1, 0)] // padding on the left only
    public void NeighbouringGeometriesDoNotReachTheAvx2Kernel(int width, int dilation, int stride, int padLeft, int padRight)
    {
        var random = new Random(1200 + width);
        var options = new Conv2dOptions
        {
            Groups = 2, StrideH = stride, StrideW = stride, DilationH = dilation, DilationW = dilation,
            PadTop = 1, PadLeft = padLeft, PadBottom = 1, PadRight = padRight,
        };
        var g = ConvShapes.Standard([1, 2, 6, width], [4, 1, 3, 3], [4], options);
        string algorithm = CheckWithinGuardPages(TestData.Engine(SimdLevel.Vector256), g, random, withBias: true, inputAtEnd: true, outputAtEnd: false, g.ShapeSummary);
        Assert.NotEqual("depthwise-3x3-avx2", algorithm);
    }

    /// <summary>Runs <paramref name="g"/> on guarded buffers, compares with the reference and checks the output's guard floats; returns the algorithm.</summary>
    internal static string CheckWithinGuardPages(ConvolutionEngine engine, Conv2dGeometry g, Random random, bool withBias, bool inputAtEnd, bool outputAtEnd, string context)
    {
        var input = TestData.Random(random, g.InputElements);
        var weight = TestData.Random(random, g.WeightElements);
        var bias = withBias ? TestData.Random(random, g.OutChannels) : null;
        var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);

        // NaN around the input: a read outside it that reached an output would show as NaN there.
        using var guardedInput = new GuardedBuffer(g.InputElements, inputAtEnd, float.NaN);
        using var guardedOutput = new GuardedBuffer(g.OutputElements, outputAtEnd, OutputGuard);
        input.CopyTo(guardedInput.Span);
        guardedOutput.Span.Fill(float.NaN);
        var result = engine.Convolve(g, guardedInput.Span, weight, bias ?? [], guardedOutput.Span);

        string where = $"{context} input {(inputAtEnd ? "ending at" : "starting after")} a guard page, output {(outputAtEnd ? "ending at" : "starting after")} one ({result.Algorithm})";
        TestData.AssertClose(expected, magnitude, guardedOutput.Span.ToArray(), where);
        Assert.True(guardedOutput.GuardsIntact(out long changed), $"{where}: wrote element {changed} outside the output");
        return result.Algorithm;
    }
}
