using ConvService.Compute;

namespace ConvService.Fuzz.Tests;

/// <summary>Arguments of one ConvShapes.DepthwiseSeparable call.</summary>
public sealed record DepthwiseCase(long[] Input, long[] Depthwise, long[] Pointwise, long[] DepthwiseBias, long[] PointwiseBias, Conv2dOptions Options)
{
    public override string ToString() =>
        $"input [{string.Join(",", Input)}] depthwise [{string.Join(",", Depthwise)}] pointwise [{string.Join(",", Pointwise)}] " +
        $"biases [{string.Join(",", DepthwiseBias)}] [{string.Join(",", PointwiseBias)}] {Options}";
}
