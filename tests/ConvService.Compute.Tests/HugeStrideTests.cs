using ConvService.Compute;

namespace ConvService.Compute.Tests;

/// <summary>
/// A legal stride near 2^31 once overflowed the depthwise row layout (output width x stride) and threw
/// inside the engine (found by the fuzz properties). Such a stride only means one output column.
/// </summary>
public sealed class HugeStrideTests
{
    [Theory]
    [InlineData(SimdLevel.Scalar)]
    [InlineData(SimdLevel.Vector128)]
    [InlineData(SimdLevel.Vector256)]
    [InlineData(SimdLevel.Vector512)]
    public void HugeStrideRunsAndMatchesTheReference(SimdLevel simd)
    {
        var options = new Conv2dOptions { StrideH = 2, StrideW = int.MaxValue, PadTop = 3, PadLeft = 2, PadBottom = 3, PadRight = 2 };
        var g = ConvShapes.Standard([1, 7, 6], [1, 1, 6, 1], [], options);
        float[] input = Enumerable.Range(0, 42).Select(i => (float)i).ToArray();
        float[] weight = [1, 1, 1, 1, 1, 1];
        var output = new float[g.OutputElements];

        new ConvolutionEngine(new ComputeOptions { Simd = simd }).Convolve(g, input, weight, [], output);

        // Output column 0 reads input column -2 (left pad 2, kernel width 1): padding, so every value is 0.
        Assert.Equal([1L, 4L, 1L], g.OutputShape);
        Assert.All(output, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void HugeStrideOnBothAxesOfAStandardConvolutionRuns()
    {
        var options = new Conv2dOptions { StrideH = int.MaxValue, StrideW = int.MaxValue - 1 };
        var g = ConvShapes.Standard([1, 2, 5, 5], [3, 2, 3, 3], [3], options);
        var input = Enumerable.Range(0, 50).Select(i => (float)i).ToArray();
        var weight = Enumerable.Repeat(1f, 54).ToArray();
        var output = new float[g.OutputElements];

        new ConvolutionEngine().Convolve(g, input, weight, [1f, 2f, 3f], output);

        // One output per channel: the sum of the top-left 3x3 window of both channels, plus bias.
        float window = 0 + 1 + 2 + 5 + 6 + 7 + 10 + 11 + 12;
        float expected = window + (window + 9 * 25);
        Assert.Equal([expected + 1, expected + 2, expected + 3], output);
    }
}
