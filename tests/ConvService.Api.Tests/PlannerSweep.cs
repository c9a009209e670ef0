using ConvService.Compute;

namespace ConvService.Api.Tests;

/// <summary>
/// The kernel families the planner chooses at a vector width, found by planning (not running) a seeded sweep of
/// geometries across kernel sizes, strides, dilations, paddings (huge ones included), groups, depth multipliers,
/// rank-1 and random weights and intermediate sizes, through the public plan API; so a family added to the
/// planner shows up here without a list to keep in step. A family is one '+'-separated part of an algorithm name.
/// </summary>
internal static class PlannerSweep
{
    public static IEnumerable<string> Split(string algorithm) => algorithm.Split('+');

    public static HashSet<string> Families(SimdLevel simd)
    {
        var engine = new ConvolutionEngine(new ComputeOptions { Simd = simd, MaxThreads = 1 });
        var random = new Random(20261126);
        var families = new HashSet<string>();
        for (int i = 0; i < 1500; i++)
        {
            Add(families, () => Standard(engine, random));
        }

        for (int i = 0; i < 300; i++)
        {
            Add(families, () => DepthwiseSeparable(engine, random));
        }

        for (int i = 0; i < 200; i++)
        {
            Add(families, () => SpatiallySeparable(engine, random));
        }

        return families;
    }

    private static void Add(HashSet<string> families, Func<ConvolutionPlan> plan)
    {
        try
        {
            families.UnionWith(Split(plan().Algorithm));
        }
        catch (ConvArgumentException)
        {
            // An invalid draw (e.g. a kernel larger than the padded input): nothing to plan.
        }
    }

    private static ConvolutionPlan Standard(ConvolutionEngine engine, Random random)
    {
        int channels = Pick(random, 1, 2, 3, 4, 8, 16);
        int kernelH = random.Next(1, 8);
        int kernelW = random.Next(3) == 0 ? random.Next(1, 8) : kernelH;
        int form = random.Next(3);
        int groups = form == 1 ? channels : form == 2 && channels % 2 == 0 ? 2 : 1;
        int outChannels = form == 1 ? channels * random.Next(1, 3) : random.Next(1, 25) * groups;
        var options = Options(random, kernelH, kernelW) with { Groups = groups };
        long[] input = [1, channels, Extent(random), Extent(random)];
        var g = ConvShapes.Standard(input, [outChannels, channels / groups, kernelH, kernelW], [], options);
        // Rank-1 filters (a Gaussian's kind) are separated by the planner; random ones are not.
        bool rankOne = random.Next(3) == 0;
        var weight = new float[g.WeightElements];
        int taps = kernelH * kernelW;
        var column = Values(random, kernelH);
        var row = Values(random, kernelW);
        for (int i = 0; i < weight.Length; i++)
        {
            weight[i] = rankOne ? column[i % taps / kernelW] * row[i % kernelW] : (random.NextSingle() * 2) - 1;
        }

        return engine.PlanConvolve(g, weight, []);
    }

    private static ConvolutionPlan DepthwiseSeparable(ConvolutionEngine engine, Random random)
    {
        int channels = Pick(random, 1, 2, 4, 8, 16);
        int multiplier = random.Next(1, 3);
        int kernel = Pick(random, 1, 2, 3, 5, 7);
        int outChannels = random.Next(1, 17);
        var options = Options(random, kernel, kernel);
        long[] input = [1, channels, Pick(random, 4, 9, 16, 33, 64, 128, 256), Pick(random, 4, 8, 17, 32, 64, 100)];
        var g = ConvShapes.DepthwiseSeparable(input, [channels * multiplier, 1, kernel, kernel], [outChannels, channels * multiplier, 1, 1], [], [], options);
        return engine.PlanDepthwiseSeparable(g, Values(random, g.Depthwise.WeightElements), Values(random, g.Pointwise.WeightElements), [], []);
    }

    private static ConvolutionPlan SpatiallySeparable(ConvolutionEngine engine, Random random)
    {
        int columnTaps = random.Next(1, 8);
        int rowTaps = random.Next(1, 8);
        var g = ConvShapes.SpatiallySeparable([Pick(random, 1, 3, 4), Extent(random), Extent(random)], columnTaps, rowTaps, Options(random, columnTaps, rowTaps));
        return engine.PlanSpatiallySeparable(g, Values(random, columnTaps), Values(random, rowTaps));
    }

    private static Conv2dOptions Options(Random random, int kernelH, int kernelW)
    {
        int strideH = Pick(random, 1, 1, 2, 3);
        int strideW = random.Next(4) == 0 ? Pick(random, 1, 2, 3) : strideH;
        int dilation = Pick(random, 1, 1, 1, 2);
        var options = new Conv2dOptions { StrideH = strideH, StrideW = strideW, DilationH = dilation, DilationW = dilation };
        return random.Next(20) switch
        {
            0 => options with { PadTop = 300, PadBottom = 300 },
            < 4 => options with { Padding = PaddingMode.Valid },
            < 8 => options with { Padding = PaddingMode.Same },
            < 16 => options with { PadTop = kernelH / 2, PadBottom = kernelH / 2, PadLeft = kernelW / 2, PadRight = kernelW / 2 },
            _ => options with { PadTop = random.Next(4), PadLeft = random.Next(4), PadBottom = random.Next(4), PadRight = random.Next(4) },
        };
    }

    private static int Extent(Random random) => random.Next(2) == 0 ? random.Next(1, 20) : Pick(random, 16, 17, 28, 32, 40, 56, 64, 70);

    private static int Pick(Random random, params int[] values) => values[random.Next(values.Length)];

    private static float[] Values(Random random, long count)
    {
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (random.NextSingle() * 2) - 1;
        }

        return values;
    }
}
