using ConvService.Compute;

namespace ConvService.Api.Hosting;

/// <summary>
/// The tiny convolutions the service runs at start, one geometry per kernel the planner can pick (its choice
/// depends on the geometry, so each case is shaped to reach one: see ConvPlanner, DepthwiseConvolution and
/// FusedDepthwisePointwise). The SIMD kernels are [AggressiveOptimization] generics, jitted at run time on
/// first use; without this the first call of each family paid 13-38 ms of planning and JIT. Shapes are small
/// (the fused case needs a 512 KB intermediate to be chosen at all) and weights deterministic.
/// </summary>
public sealed class KernelWarmUpCases(IReadOnlyList<WarmUpCase> cases)
{
    private static readonly float[] Binomial5 = [1, 4, 6, 4, 1];

    public IReadOnlyList<WarmUpCase> Cases { get; } = cases;

    /// <summary>The service's set: every family the planner chooses at this CPU's vector width, GEMM tiles and modes included.</summary>
    public static KernelWarmUpCases Default { get; } = new(
    [
        // Implicit GEMM: each register tile (8 and 6 rows) with its narrow tails (2 and 1 vectors), column-masked
        // same-width rows (two threads), B read in place, phase planes for stride 2, im2col for stride 5, groups.
        Standard("implicit-gemm 3x3 pad 1, 8-row tiles", [1, 8, 16, 16], [16, 8, 3, 3], bias: true, Pads(1)),
        Standard("implicit-gemm 3x3 pad 1, 6-row tiles", [1, 4, 12, 12], [18, 4, 3, 3], bias: false, Pads(1)),
        Standard("implicit-gemm 5x5 valid, 8-row tiles", [1, 2, 11, 11], [8, 2, 5, 5], bias: false, new()),
        Standard("implicit-gemm 3x3 valid, 6-row tiles", [1, 2, 10, 11], [18, 2, 3, 3], bias: false, new()),
        Standard("implicit-gemm 3x3 stride 2", [1, 3, 17, 17], [16, 3, 3, 3], bias: true, Pads(1) with { StrideH = 2, StrideW = 2 }),
        Standard("implicit-gemm 3x3 stride 5", [1, 2, 20, 20], [8, 2, 3, 3], bias: false, new() { StrideH = 5, StrideW = 5 }),
        Standard("implicit-gemm 3x3 groups 2", [1, 4, 9, 9], [8, 2, 3, 3], bias: false, new() { Groups = 2 }),
        Standard("pointwise-gemm", [1, 8, 10, 10], [24, 8, 1, 1], bias: true, new()),

        // Depthwise: the direct kernels (3x3 flat rows, 3x3, 3x3 stride 2 with left padding 0, 1 and 2, 5x5 and 7x7 with
        // a vector tail, and on rows of 256+ columns), the general ring (four-row groups over 4, 2 and 1 vectors at
        // stride 1, single rows at stride 3, dilation, depth multiplier 2) and a rank-1 kernel the planner separates.
        Depthwise("depthwise 3x3 flat", [1, 4, 10, 10], 1, 3, Pads(1)),
        Depthwise("depthwise 3x3", [1, 16, 32, 32], 1, 3, Pads(1)),
        // At AVX2 the 3x3 kernel has its own paths for rows of at most 8 columns and for rows near 1024 columns.
        Depthwise("depthwise 3x3 narrow rows", [1, 2, 5, 6], 1, 3, Pads(1)),
        Depthwise("depthwise 3x3 1024-column rows", [1, 1, 4, 1024], 1, 3, Pads(1)),
        Depthwise("depthwise 3x3 stride 2 valid", [1, 4, 16, 16], 1, 3, new() { StrideH = 2, StrideW = 2 }),
        Depthwise("depthwise 3x3 stride 2 pad 1", [1, 4, 16, 16], 1, 3, Pads(1) with { StrideH = 2, StrideW = 2 }),
        Depthwise("depthwise 3x3 stride 2 pad 2", [1, 4, 16, 16], 1, 3, Pads(2) with { StrideH = 2, StrideW = 2 }),
        Depthwise("depthwise 5x5", [1, 4, 16, 20], 1, 5, Pads(2)),
        Depthwise("depthwise 5x5 wide rows", [1, 1, 5, 260], 1, 5, Pads(2)),
        Depthwise("depthwise 7x7", [1, 4, 16, 20], 1, 7, Pads(3)),
        Depthwise("depthwise 7x7 wide rows", [1, 1, 7, 260], 1, 7, Pads(3)),
        Depthwise("depthwise 4x4 multiplier 2", [1, 2, 8, 116], 2, 4, Pads(1)),
        Depthwise("depthwise 3x3 stride 3", [1, 4, 13, 13], 1, 3, new() { StrideH = 3, StrideW = 3 }),
        Depthwise("depthwise 3x3 dilation 2", [1, 2, 12, 12], 1, 3, Pads(2) with { DilationH = 2, DilationW = 2 }),
        RankOneDepthwise("depthwise 5x5 rank 1", [1, 2, 16, 16]),

        // Padding far beyond the input: the tap-range kernel, which needs no laid-out rows.
        Standard("huge padding", [1, 1, 1, 2], [1, 1, 1, 1], bias: false, new() { PadTop = 130, PadBottom = 130 }),

        SpatiallySeparable("spatially separable 5x3", [1, 16, 16]),
        DepthwiseSeparable("depthwise-separable", [1, 4, 8, 8], 8),
        // Fused only when the intermediate spans at least two 256 KB bands: 8 x 256 x 64 floats.
        DepthwiseSeparable("fused depthwise-separable", [1, 8, 256, 64], 8),
    ]);

    private static Conv2dOptions Pads(int pad) => new() { PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad };

    private static WarmUpCase Standard(string name, long[] input, long[] weight, bool bias, Conv2dOptions options) =>
        new(name, (engine, cancellationToken) =>
        {
            long[] biasShape = bias ? [weight[0]] : [];
            var g = ConvShapes.Standard(input, weight, biasShape, options);
            return engine.Convolve(g, Values(g.InputElements, 1), Values(g.WeightElements, 2), Values(bias ? weight[0] : 0, 3),
                new float[g.OutputElements], cancellationToken);
        });

    private static WarmUpCase Depthwise(string name, long[] input, int multiplier, int kernel, Conv2dOptions options) =>
        Standard(name, input, [input[1] * multiplier, 1, kernel, kernel], bias: false, options with { Groups = (int)input[1] });

    private static WarmUpCase RankOneDepthwise(string name, long[] input) =>
        new(name, (engine, cancellationToken) =>
        {
            int channels = (int)input[1];
            var g = ConvShapes.Standard(input, [channels, 1, 5, 5], [], Pads(2) with { Groups = channels });
            var weight = new float[g.WeightElements];
            for (int i = 0; i < weight.Length; i++)
            {
                weight[i] = Binomial5[i / 5 % 5] * Binomial5[i % 5] / 256f;
            }

            return engine.Convolve(g, Values(g.InputElements, 1), weight, [], new float[g.OutputElements], cancellationToken);
        });

    private static WarmUpCase SpatiallySeparable(string name, long[] input) =>
        new(name, (engine, cancellationToken) =>
        {
            var g = ConvShapes.SpatiallySeparable(input, 5, 3, new() { Padding = PaddingMode.Same });
            return engine.SpatiallySeparable(g, Values(g.Equivalent.InputElements, 1), Binomial5, [1, 2, 1], new float[g.OutputElements], cancellationToken);
        });

    private static WarmUpCase DepthwiseSeparable(string name, long[] input, int outChannels) =>
        new(name, (engine, cancellationToken) =>
        {
            long channels = input[1];
            var g = ConvShapes.DepthwiseSeparable(input, [channels, 1, 3, 3], [outChannels, channels, 1, 1], [channels], [outChannels], Pads(1));
            return engine.DepthwiseSeparable(g, Values(g.Depthwise.InputElements, 1), Values(g.Depthwise.WeightElements, 2),
                Values(g.Pointwise.WeightElements, 3), Values(channels, 4), Values(outChannels, 5), new float[g.OutputElements], cancellationToken);
        });

    /// <summary>Deterministic values in [-1, 1): random enough that no kernel is rank 1 by accident.</summary>
    private static float[] Values(long count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (random.NextSingle() * 2) - 1;
        }

        return values;
    }
}
