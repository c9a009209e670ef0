using ConvService.Compute;

namespace ConvService.Fuzz.Tests;

/// <summary>Arguments of one CostModel.Estimate call.</summary>
public sealed record EstimateCase(long[] Input, int[] Kernel, long OutputChannels, int DepthMultiplier, Conv2dOptions Options)
{
    public override string ToString() =>
        $"input [{string.Join(",", Input)}] kernel [{string.Join(",", Kernel)}] out {OutputChannels} multiplier {DepthMultiplier} {Options}";
}
