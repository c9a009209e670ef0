namespace ConvService.Compute.Tests;

/// <summary>
/// Depthwise 3x3, 5x5 and 7x7 with "same" column padding, and 3x3 with stride 2 (the direct AVX-512 kernels at Vector512) on widths and heights
/// around the vector, chunk and row-group edges, with input and output at random float offsets from a 64-byte
/// line: against the reference, and nothing written outside the output (masked border stores).
/// </summary>
public sealed class DepthwiseBorderTests
{
    private static readonly int[] Widths = [1, 2, 3, 5, 13, 15, 16, 17, 19, 29, 31, 32, 33, 35, 47, 48, 49, 56, 63, 64, 65, 100, 250];
    private static readonly int[] Heights = [1, 2, 3, 4, 5, 6, 7, 9, 13];

    public static TheoryData<SimdLevel, int> LevelsAndKernels()
    {
        var data = new TheoryData<SimdLevel, int>();
        foreach (var level in TestData.Levels)
        {
            data.Add(level, 3);
            data.Add(level, 5);
            data.Add(level, 7);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LevelsAndKernels))]
    public void EveryWidthHeightAndAlignmentMatchesTheReference(SimdLevel level, int kernel)
    {
        var random = new Random(700 + kernel);
        var engines = new[] { TestData.Engine(level, threads: 1), TestData.Engine(level, threads: 2) };
        int pad = kernel / 2;
        int trial = 0;
        foreach (int width in Widths)
        {
            foreach (int height in Heights)
            {
                trial++;
                int channels = 1 + (trial % 3), multiplier = 1 + (trial % 2 == 0 && trial % 5 == 0 ? 1 : 0);
                var options = new Conv2dOptions { Groups = channels, PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad };
                var g = ConvShapes.Standard([1, channels, height, width], [channels * multiplier, 1, kernel, kernel], [channels * multiplier], options);
                Check(engines[trial % 2], g, random, inputOffset: random.Next(16), outputOffset: random.Next(16), $"{level} {g.ShapeSummary}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void Stride2EveryWidthHeightPaddingAndAlignmentMatchesTheReference(SimdLevel level)
    {
        var random = new Random(720);
        var engines = new[] { TestData.Engine(level, threads: 1), TestData.Engine(level, threads: 2) };
        int trial = 0;
        foreach (int width in Widths)
        {
            foreach (int height in Heights)
            {
                trial++;
                int channels = 1 + (trial % 3), multiplier = 1 + (trial % 2 == 0 && trial % 5 == 0 ? 1 : 0);
                // Pad 1 on every side, TensorFlow's SAME (no left padding for even widths), VALID (no padding: the last
                // output's right tap may lie inside the row).
                var options = (trial % 3) switch
                {
                    0 => new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 },
                    1 => new Conv2dOptions { Padding = PaddingMode.Same },
                    _ => new Conv2dOptions { Padding = PaddingMode.Valid },
                };
                options = options with { Groups = channels, StrideH = 2, StrideW = 2 };
                Conv2dGeometry g;
                try
                {
                    g = ConvShapes.Standard([1, channels, height, width], [channels * multiplier, 1, 3, 3], [channels * multiplier], options);
                }
                catch (ConvArgumentException)
                {
                    continue; // VALID on an image smaller than the kernel
                }

                Check(engines[(trial / 2) % 2], g, random, inputOffset: random.Next(16), outputOffset: random.Next(16), $"{level} {g.ShapeSummary}");
            }
        }
    }

    /// <summary>
    /// Random geometries in and around the direct kernels' domain (K 3/5/7 with K/2 padding, stride 1 or 2), tiny
    /// images included: an axis with a single output records stride 1, which once sent a strided 2x2 image to a
    /// same-width stride-1 kernel.
    /// </summary>
    [Theory]
    [MemberData(nameof(Levels))]
    public void RandomGeometriesNearTheDirectKernelsMatchTheReference(SimdLevel level)
    {
        var random = new Random(740);
        var engines = new[] { TestData.Engine(level, threads: 1), TestData.Engine(level, threads: 2) };
        for (int trial = 0; trial < 120; trial++)
        {
            int kernel = 3 + (2 * random.Next(3));
            int pad = kernel / 2;
            int stride = random.Next(3) == 0 ? 2 : 1;
            int channels = random.Next(1, 4), multiplier = random.Next(4) == 0 ? 2 : 1;
            int height = random.Next(2) == 0 ? random.Next(1, 5) : random.Next(1, 40);
            int width = random.Next(2) == 0 ? random.Next(1, 5) : random.Next(1, 70);
            var options = random.Next(4) switch
            {
                0 => new Conv2dOptions { Padding = PaddingMode.Same },
                1 => new Conv2dOptions { PadTop = random.Next(pad + 1), PadLeft = pad, PadBottom = random.Next(pad + 1), PadRight = pad },
                _ => new Conv2dOptions { PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad },
            };
            options = options with { Groups = channels, StrideH = stride, StrideW = stride };
            Conv2dGeometry g;
            try
            {
                g = ConvShapes.Standard([1, channels, height, width], [channels * multiplier, 1, kernel, kernel], [channels * multiplier], options);
            }
            catch (ConvArgumentException)
            {
                continue; // kernel larger than the padded input
            }

            Check(engines[trial % 2], g, random, inputOffset: random.Next(16), outputOffset: random.Next(16), $"{level} trial {trial} {g.ShapeSummary}");
        }
    }

    [Theory]
    [InlineData(SimdLevel.Vector512, 112, 3, 1, 1, "depthwise-3x3-avx512")]
    [InlineData(SimdLevel.Vector512, 56, 3, 1, 1, "depthwise-3x3-flat-avx512")]
    [InlineData(SimdLevel.Vector512, 112, 3, 2, 1, "depthwise-3x3-stride2-avx512")]
    [InlineData(SimdLevel.Vector512, 112, 3, 2, 2, "depthwise-3x3-stride2-avx512")]
    [InlineData(SimdLevel.Vector512, 40, 5, 1, 2, "depthwise-5x5-avx512")]
    [InlineData(SimdLevel.Vector512, 40, 7, 1, 3, "depthwise-7x7-avx512")]
    [InlineData(SimdLevel.Vector512, 40, 3, 1, 0, "depthwise-avx512")]
    [InlineData(SimdLevel.Vector256, 112, 3, 1, 1, "depthwise-3x3-avx2")]
    [InlineData(SimdLevel.Vector256, 56, 3, 1, 1, "depthwise-3x3-avx2")]
    [InlineData(SimdLevel.Vector256, 5, 3, 1, 1, "depthwise-3x3-avx2")]
    [InlineData(SimdLevel.Vector256, 112, 3, 2, 1, "depthwise-avx2")]
    [InlineData(SimdLevel.Vector256, 40, 3, 1, 0, "depthwise-avx2")]
    [InlineData(SimdLevel.Vector256, 40, 5, 1, 2, "depthwise-5x5-avx2")]
    [InlineData(SimdLevel.Vector256, 5, 5, 1, 2, "depthwise-5x5-avx2")]
    [InlineData(SimdLevel.Vector256, 40, 7, 1, 3, "depthwise-7x7-avx2")]
    [InlineData(SimdLevel.Vector256, 3, 7, 1, 3, "depthwise-7x7-avx2")]
    [InlineData(SimdLevel.Vector256, 40, 5, 2, 2, "depthwise-avx2")]
    [InlineData(SimdLevel.Vector256, 40, 7, 1, 2, "depthwise-avx2")]
    public void AlgorithmNamesTheKernelThatRuns(SimdLevel level, int width, int kernel, int stride, int pad, string algorithm)
    {
        var options = new Conv2dOptions { Groups = 4, StrideH = stride, StrideW = stride, PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad };
        var g = ConvShapes.Standard([1, 4, 20, width], [4, 1, kernel, kernel], [], options);
        var engine = TestData.Engine(level);
        var weight = TestData.Random(new Random(1), g.WeightElements);
        var plan = engine.PlanConvolve(g, weight, default);
        if (ComputeOptions.DetectSimd() < level)
        {
            // On a CPU without this level (e.g. CI's AVX2-only run, DOTNET_EnableAVX512=0) the engine plans as at the widest level it has.
            Assert.Equal(TestData.Engine(ComputeOptions.DetectSimd()).PlanConvolve(g, weight, default).Algorithm, plan.Algorithm);
            return;
        }

        Assert.Equal(algorithm, plan.Algorithm);
    }

    public static TheoryData<SimdLevel> Levels() => TestData.AllLevels();

    [Theory]
    [InlineData(5)]
    [InlineData(7)]
    public void WideRowsOnTheLineAlignedChunkGridMatchTheReferenceAtEveryOutputOffset(int kernel)
    {
        // From 256 columns the 5x5 and 7x7 kernels start their chunks on the output's 64-byte line: every offset is a
        // different first (left-masked) chunk.
        var random = new Random(800 + kernel);
        var engine = TestData.Engine(SimdLevel.Vector512, threads: 1);
        int pad = kernel / 2;
        foreach (int width in new[] { 256, 263, 300, 335 })
        {
            for (int outputOffset = 0; outputOffset < 16; outputOffset++)
            {
                int height = 5 + (outputOffset % 4);
                var options = new Conv2dOptions { Groups = 2, PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad };
                var g = ConvShapes.Standard([1, 2, height, width], [2, 1, kernel, kernel], [2], options);
                Check(engine, g, random, inputOffset: random.Next(16), outputOffset, $"{g.ShapeSummary}");
            }
        }
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(7, 2)]
    public void PlanesPastHalfTheL3PrefetchTheNextGroupAndMatchTheReference(int kernel, int threads)
    {
        // 2 x 8.4 MB of input and output: the kernels prefetch the rows each next group adds (zero rows at the bottom).
        var random = new Random(900 + kernel);
        int pad = kernel / 2;
        var options = new Conv2dOptions { Groups = 1, PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad };
        var g = ConvShapes.Standard([1, 1, 1450, 1451], [1, 1, kernel, kernel], [1], options);
        Check(TestData.Engine(SimdLevel.Vector512, threads), g, random, inputOffset: 3, outputOffset: 6, $"{g.ShapeSummary}");
    }

    private static void Check(ConvolutionEngine engine, Conv2dGeometry g, Random random, int inputOffset, int outputOffset, string context)
    {
        const int Guard = 40;
        const float Sentinel = 12345f;
        var inputStorage = TestData.Random(random, g.InputElements + 16);
        var input = inputStorage.AsSpan(inputOffset, (int)g.InputElements).ToArray();
        var weight = TestData.Random(random, g.WeightElements);
        var bias = TestData.Random(random, g.OutChannels);
        var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);

        var outputStorage = new float[g.OutputElements + (2 * Guard) + 16];
        outputStorage.AsSpan().Fill(Sentinel);
        int start = Guard + outputOffset;
        outputStorage.AsSpan(start, (int)g.OutputElements).Fill(float.NaN);
        var result = engine.Convolve(g, inputStorage.AsSpan(inputOffset, (int)g.InputElements), weight, bias, outputStorage.AsSpan(start, (int)g.OutputElements));

        string where = $"{context} input+{inputOffset} output+{outputOffset} ({result.Algorithm})";
        TestData.AssertClose(expected, magnitude, outputStorage.AsSpan(start, (int)g.OutputElements).ToArray(), where);
        for (int i = 0; i < outputStorage.Length; i++)
        {
            if (i < start || i >= start + g.OutputElements)
            {
                Assert.True(outputStorage[i] == Sentinel, $"{where}: wrote element {i - start} outside the output");
            }
        }
    }
}
