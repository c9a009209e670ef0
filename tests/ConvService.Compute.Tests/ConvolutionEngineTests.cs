namespace ConvService.Compute.Tests;

/// <summary>The engine against <see cref="ReferenceConvolution"/> on seeded random shapes, at every forced vector width.</summary>
public sealed class ConvolutionEngineTests
{
    public static TheoryData<SimdLevel, int> LevelsAndSeeds()
    {
        var data = new TheoryData<SimdLevel, int>();
        foreach (var level in TestData.Levels)
        {
            for (int seed = 0; seed < 12; seed++)
            {
                data.Add(level, seed);
            }
        }

        return data;
    }

    public static TheoryData<SimdLevel> AllLevels() => TestData.AllLevels();

    [Theory]
    [MemberData(nameof(LevelsAndSeeds))]
    public void RandomStandardConvolutionsMatchTheReference(SimdLevel level, int seed)
    {
        var random = new Random(1000 + seed);
        var engine = TestData.Engine(level, threads: 1 + (seed % 2));
        for (int trial = 0; trial < 12; trial++)
        {
            var (inputShape, weightShape, options, withBias) = RandomStandardCase(random);
            Conv2dGeometry g;
            try
            {
                g = ConvShapes.Standard(inputShape, weightShape, withBias ? [weightShape[0]] : [], options);
            }
            catch (ConvArgumentException)
            {
                continue; // kernel larger than the padded input: a different rule's test
            }

            RunStandard(engine, g, random, withBias, $"seed {seed} trial {trial}");
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void NamedStandardCasesMatchTheReference(SimdLevel level)
    {
        var engine = TestData.Engine(level);
        var random = new Random(7);
        (long[] Input, long[] Weight, Conv2dOptions Options)[] cases =
        [
            ([3, 12, 12], [256, 3, 5, 5], Conv2dOptions.Default),                                    // the textbook case, CHW
            ([1, 8, 17, 19], [16, 8, 3, 3], new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 }),
            ([2, 5, 13, 11], [7, 5, 1, 1], Conv2dOptions.Default),                                   // pointwise, batch 2
            ([1, 4, 9, 10], [6, 4, 4, 4], new Conv2dOptions { Padding = PaddingMode.Same, StrideH = 2, StrideW = 2 }), // SAME, even kernel, stride 2
            ([1, 3, 7, 6], [4, 3, 7, 6], Conv2dOptions.Default),                                     // kernel as large as the input
            ([1, 3, 5, 4], [4, 3, 7, 8], new Conv2dOptions { PadTop = 1, PadLeft = 2, PadBottom = 1, PadRight = 2 }), // kernel as large as the padded input
            ([1, 6, 15, 21], [9, 2, 3, 3], new Conv2dOptions { Groups = 3, DilationH = 2, DilationW = 3, PadTop = 2, PadLeft = 0, PadBottom = 1, PadRight = 3 }),
            ([2, 4, 16, 33], [8, 1, 3, 5], new Conv2dOptions { Groups = 4, StrideW = 2, PadLeft = 2, PadRight = 2 }), // depthwise, multiplier 2
            ([1, 3, 23, 40], [3, 1, 5, 5], new Conv2dOptions { Groups = 3, PadTop = 2, PadLeft = 2, PadBottom = 2, PadRight = 2 }),
            ([1, 1, 30, 47], [1, 1, 7, 7], new Conv2dOptions { Padding = PaddingMode.Same }),
            ([1, 2, 9, 9], [5, 2, 3, 3], new Conv2dOptions { Padding = PaddingMode.Valid, StrideH = 3, StrideW = 2 }),
            ([1, 32, 20, 20], [64, 32, 3, 3], new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 }),
        ];
        var pad1 = new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 };

        // Depthwise 3x3 with one column of padding (the direct AVX-512 kernel): widths around the vector and pair edges.
        foreach (long width in new long[] { 1, 5, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 80, 112 })
        {
            cases = [.. cases, ([1, 3, 7 + (width % 5), width], [3, 1, 3, 3], pad1 with { Groups = 3 })];
        }

        // Depthwise 7x7 with three columns of padding (the direct AVX-512 7x7 kernel).
        var pad3 = new Conv2dOptions { PadTop = 3, PadLeft = 3, PadBottom = 3, PadRight = 3 };
        foreach (long width in new long[] { 1, 3, 15, 17, 32, 33, 50, 64, 81 })
        {
            cases = [.. cases, ([1, 2, 9 + (width % 4), width], [2, 1, 7, 7], pad3 with { Groups = 2 })];
        }

        // Depthwise with horizontal stride 2 (rows split into even and odd phases 32 elements at a time) and 3:
        // widths around the 32-element blocks, even and odd left padding, a few output columns per vector block.
        foreach (long width in new long[] { 1, 2, 31, 32, 33, 63, 64, 65, 97, 113, 130 })
        {
            cases =
            [
                .. cases,
                ([1, 2, 5 + (width % 3), width], [2, 1, 3, 3], pad1 with { Groups = 2, StrideH = 2, StrideW = 2 }),
                ([1, 2, 6, width], [4, 1, 3, 5], new Conv2dOptions { Groups = 2, StrideW = 2, PadLeft = 2, PadRight = 2 }),
                ([1, 1, 7, width], [1, 1, 2, 3], new Conv2dOptions { Groups = 1, StrideW = 3, PadLeft = 1, PadRight = 1 }),
                ([1, 2, 4 + (width % 4), width], [4, 1, 3, 3], new Conv2dOptions { Groups = 2, StrideH = 2, StrideW = 2, Padding = PaddingMode.Same }),
                ([1, 1, 9, width + 2], [1, 1, 3, 3], new Conv2dOptions { StrideH = 2, StrideW = 2, PadTop = 2, PadLeft = 2, PadRight = 0 }),
            ];
        }

        // Standard convolutions with horizontal stride 2 (im2col rows gathered 16 at a time from two masked loads):
        // rows shorter and longer than the 32 elements one gather reads, taps left and right of the row.
        foreach (long width in new long[] { 1, 6, 15, 16, 17, 33, 40, 65 })
        {
            cases =
            [
                .. cases,
                ([1, 5, 9, width], [6, 5, 3, 3], pad1 with { StrideH = 2, StrideW = 2 }),
                ([1, 3, 11, width], [4, 3, 7, 7], pad3 with { StrideW = 2 }),
            ];
        }

        // Strides 2-4 run on the input split into phase planes (stride 5 and up gather im2col rows): strides
        // per axis, dilation, uneven pads, a 4x4 stride-4 "patchify" layer, batch 2.
        cases =
        [
            .. cases,
            ([1, 3, 17, 23], [5, 3, 3, 3], new Conv2dOptions { StrideH = 3, StrideW = 3, DilationH = 2, DilationW = 2, PadTop = 1, PadLeft = 2, PadBottom = 0, PadRight = 3 }),
            ([2, 3, 16, 20], [8, 3, 4, 4], new Conv2dOptions { StrideH = 4, StrideW = 4 }),
            ([1, 4, 15, 18], [6, 4, 3, 5], new Conv2dOptions { StrideH = 1, StrideW = 2, PadLeft = 2, PadRight = 2 }),
            ([1, 4, 15, 18], [6, 4, 5, 3], new Conv2dOptions { StrideH = 2, StrideW = 1, PadTop = 2, PadBottom = 1 }),
            ([1, 2, 20, 20], [3, 2, 5, 5], new Conv2dOptions { StrideH = 5, StrideW = 5, PadTop = 1, PadLeft = 1 }),
        ];

        cases =
        [
            .. cases,
            ([1, 2, 12, 45], [4, 1, 7, 7], pad3 with { Groups = 2, PadTop = 1, PadBottom = 5 }),      // multiplier 2, uneven vertical padding
            ([2, 2, 9, 40], [4, 1, 3, 3], pad1 with { Groups = 2 }),                                  // multiplier 2, batch 2
            ([1, 2, 10, 50], [2, 1, 3, 3], pad1 with { Groups = 2, PadTop = 0, PadBottom = 2 }),      // uneven vertical padding
            ([1, 2, 3, 33], [2, 1, 3, 3], pad1 with { Groups = 2, PadTop = 0, PadBottom = 0 }),       // one output row
            // Strided depthwise with a single output pixel: the geometry records stride 1, yet the output is narrower
            // than the input, so the same-width 3x3/5x5/7x7 kernels must not take it.
            ([1, 2, 2, 2], [2, 1, 3, 3], pad1 with { Groups = 2, StrideH = 2, StrideW = 2 }),
            ([1, 2, 2, 2], [2, 1, 5, 5], new Conv2dOptions { Groups = 2, StrideH = 2, StrideW = 2, PadTop = 2, PadLeft = 2, PadBottom = 2, PadRight = 2 }),
            ([1, 2, 2, 2], [2, 1, 7, 7], pad3 with { Groups = 2, StrideH = 2, StrideW = 2 }),
            ([1, 2, 9, 2], [2, 1, 3, 3], pad1 with { Groups = 2, StrideW = 2 }),                    // one output column, many rows
        ];
        foreach (var (input, weight, options) in cases)
        {
            var g = ConvShapes.Standard(input, weight, [weight[0]], options);
            RunStandard(engine, g, random, withBias: true, g.ShapeSummary);
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void FewChannelImagesSplitIntoRowBlocksAcrossThreads(SimdLevel level)
    {
        var engine = TestData.Engine(level, threads: 2);
        var random = new Random(31);
        var same = new Conv2dOptions { Padding = PaddingMode.Same };
        var cases = new (Conv2dGeometry Geometry, float[] Weight)[]
        {
            (ConvShapes.Standard([1, 1, 203, 150], [1, 1, 5, 5], [1], same), TestData.Random(random, 25)),
            (ConvShapes.Standard([1, 1, 203, 150], [1, 1, 5, 5], [1], same), AutoSeparationTests.Gaussian2d(5, 1.2)),
            (ConvShapes.Standard([3, 171, 97], [6, 1, 3, 4], [6], same with { Groups = 3, StrideH = 2 }), TestData.Random(random, 72)),
        };
        foreach (var (g, weight) in cases)
        {
            var input = TestData.Random(random, g.InputElements);
            var bias = TestData.Random(random, g.OutChannels);
            var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);
            var actual = new float[g.OutputElements];
            var result = engine.Convolve(g, input, weight, bias, actual);
            TestData.AssertClose(expected, magnitude, actual, $"{level} {g.ShapeSummary} ({result.Algorithm})");
        }
    }

    [Theory]
    [MemberData(nameof(LevelsAndSeeds))]
    public void RandomDepthwiseSeparableConvolutionsMatchTheReference(SimdLevel level, int seed)
    {
        var random = new Random(2000 + seed);
        var engine = TestData.Engine(level, threads: 1 + (seed % 2));
        for (int trial = 0; trial < 6; trial++)
        {
            int channels = random.Next(1, 6), multiplier = random.Next(1, 4), outChannels = random.Next(1, 20);
            int kh = random.Next(1, 6), kw = random.Next(1, 6);
            bool rank3 = random.Next(4) == 0;
            long batch = rank3 ? 1 : random.Next(1, 3);
            long h = random.Next(1, 24), w = random.Next(1, 40);
            long[] inputShape = rank3 ? [channels, h, w] : [batch, channels, h, w];
            var options = RandomOptions(random, groups: 1);
            bool dwBias = random.Next(2) == 0, pwBias = random.Next(2) == 0;
            long mid = (long)channels * multiplier;
            DepthwiseSeparableGeometry g;
            try
            {
                g = ConvShapes.DepthwiseSeparable(
                    inputShape, [mid, 1, kh, kw], [outChannels, mid, 1, 1], dwBias ? [mid] : [], pwBias ? [outChannels] : [], options);
            }
            catch (ConvArgumentException)
            {
                continue;
            }

            var input = TestData.Random(random, g.Depthwise.InputElements);
            var dw = TestData.Random(random, g.Depthwise.WeightElements);
            var pw = TestData.Random(random, g.Pointwise.WeightElements);
            var dwb = dwBias ? TestData.Random(random, mid) : null;
            var pwb = pwBias ? TestData.Random(random, outChannels) : null;
            var (expected, magnitude) = ReferenceConvolution.DepthwiseSeparable(g, input, dw, pw, dwb, pwb);
            var actual = new float[g.OutputElements];
            var result = engine.DepthwiseSeparable(g, input, dw, pw, dwb, pwb, actual);
            TestData.AssertClose(expected, magnitude, actual, $"{level} {g.Depthwise.ShapeSummary} then {outChannels} ({result.Algorithm})");
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void LargeDepthwiseSeparableConvolutionsRunFusedInBandsAndMatchTheReference(SimdLevel level)
    {
        var random = new Random(77);
        (long[] Input, int Multiplier, int Kernel, int Out, Conv2dOptions Options)[] cases =
        [
            ([2, 16, 70, 75], 2, 3, 24, new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 }),
            ([1, 24, 190, 61], 1, 5, 10, new Conv2dOptions { StrideH = 2, StrideW = 1, DilationW = 2, PadTop = 2, PadLeft = 4, PadBottom = 1, PadRight = 3 }),
            ([40, 123, 70], 1, 3, 7, new Conv2dOptions { Padding = PaddingMode.Same, StrideW = 2 }),
        ];
        foreach (var (inputShape, multiplier, k, outChannels, options) in cases)
        {
            long channels = inputShape[^3], mid = channels * multiplier;
            var g = ConvShapes.DepthwiseSeparable(inputShape, [mid, 1, k, k], [outChannels, mid, 1, 1], [mid], [outChannels], options);
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

    [Theory]
    [MemberData(nameof(LevelsAndSeeds))]
    public void RandomSpatiallySeparableConvolutionsMatchTheReference(SimdLevel level, int seed)
    {
        var random = new Random(3000 + seed);
        var engine = TestData.Engine(level, threads: 1 + (seed % 2));
        for (int trial = 0; trial < 6; trial++)
        {
            int channels = random.Next(1, 5);
            long[] inputShape = random.Next(3) == 0 ? [channels, random.Next(1, 30), random.Next(1, 50)] : [random.Next(1, 3), channels, random.Next(1, 30), random.Next(1, 50)];
            int kh = random.Next(1, 8), kw = random.Next(1, 8);
            var options = RandomOptions(random, groups: 1);
            SpatiallySeparableGeometry g;
            try
            {
                g = ConvShapes.SpatiallySeparable(inputShape, kh, kw, options);
            }
            catch (ConvArgumentException)
            {
                continue;
            }

            var input = TestData.Random(random, g.Equivalent.InputElements);
            var column = TestData.Random(random, kh);
            var row = TestData.Random(random, kw);
            var (expected, magnitude) = ReferenceConvolution.SpatiallySeparable(g, input, column, row);
            var actual = new float[g.OutputElements];
            var result = engine.SpatiallySeparable(g, input, column, row, actual);
            Assert.StartsWith("separable-rows-", result.Algorithm);
            TestData.AssertClose(expected, magnitude, actual, $"{level} {g.Equivalent.ShapeSummary}");
        }
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void PlansRunManyInputsAndReportTheirAlgorithm(SimdLevel level)
    {
        var engine = TestData.Engine(level);
        var random = new Random(11);
        var g = ConvShapes.Standard([2, 8, 14, 14], [16, 8, 3, 3], [], new Conv2dOptions { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 });
        var weight = TestData.Random(random, g.WeightElements);
        var plan = engine.PlanConvolve(g, weight, default);
        if (ComputeOptions.DetectSimd() >= level)
        {
            Assert.Equal("implicit-gemm-" + TestData.IsaName(level), plan.Algorithm);
        }

        for (int run = 0; run < 3; run++)
        {
            var input = TestData.Random(random, g.InputElements);
            var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, null);
            var actual = new float[g.OutputElements];
            plan.Execute(input, actual);
            TestData.AssertClose(expected, magnitude, actual, $"run {run}");
        }
    }

    internal static void RunStandard(ConvolutionEngine engine, Conv2dGeometry g, Random random, bool withBias, string context)
    {
        var input = TestData.Random(random, g.InputElements);
        var weight = TestData.Random(random, g.WeightElements);
        var bias = withBias ? TestData.Random(random, g.OutChannels) : null;
        var (expected, magnitude) = ReferenceConvolution.Standard(g, input, weight, bias);
        var actual = new float[g.OutputElements];
        actual.AsSpan().Fill(float.NaN);
        var result = engine.Convolve(g, input, weight, bias, actual);
        TestData.AssertClose(expected, magnitude, actual, $"{engine.Simd} {g.ShapeSummary} bias={withBias} ({result.Algorithm}) {context}");
    }

    private static (long[] Input, long[] Weight, Conv2dOptions Options, bool Bias) RandomStandardCase(Random random)
    {
        int groups = random.Next(4) switch
        {
            0 => 1,
            1 => random.Next(1, 4),
            2 => random.Next(1, 6), // depthwise below: groups = channels
            _ => 1,
        };
        int inPerGroup = random.Next(1, 6);
        bool depthwise = random.Next(4) == 0;
        if (depthwise)
        {
            inPerGroup = 1;
        }

        int outPerGroup = random.Next(1, 12);
        long channels = (long)groups * inPerGroup;
        bool rank3 = random.Next(4) == 0;
        long h = random.Next(1, 26), w = random.Next(1, 45);
        long[] input = rank3 ? [channels, h, w] : [random.Next(1, 3), channels, h, w];
        long[] weight = [(long)groups * outPerGroup, inPerGroup, random.Next(1, 6), random.Next(1, 6)];
        return (input, weight, RandomOptions(random, groups), random.Next(2) == 0);
    }

    private static Conv2dOptions RandomOptions(Random random, int groups)
    {
        var mode = random.Next(5) switch
        {
            0 => PaddingMode.Same,
            1 => PaddingMode.Valid,
            _ => PaddingMode.Explicit,
        };
        bool explicitPads = mode == PaddingMode.Explicit;
        return new Conv2dOptions
        {
            StrideH = random.Next(3) == 0 ? random.Next(2, 4) : 1,
            StrideW = random.Next(3) == 0 ? random.Next(2, 4) : 1,
            DilationH = random.Next(4) == 0 ? 2 : 1,
            DilationW = random.Next(4) == 0 ? random.Next(2, 4) : 1,
            PadTop = explicitPads ? random.Next(0, 4) : 0,
            PadLeft = explicitPads ? random.Next(0, 4) : 0,
            PadBottom = explicitPads ? random.Next(0, 4) : 0,
            PadRight = explicitPads ? random.Next(0, 4) : 0,
            Padding = mode,
            Groups = groups,
        };
    }
}
