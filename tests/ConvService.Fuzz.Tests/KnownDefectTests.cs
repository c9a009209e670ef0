using ConvService.Compute;

namespace ConvService.Fuzz.Tests;

/// <summary>
/// Reproducers of defects the fuzzers found in code outside this project, kept skipped until the
/// owner fixes them; un-skip together with the generator caps that mention them.
/// </summary>
public sealed class KnownDefectTests
{
    private const string HugeStrideDefect =
        "Known defect (compute): StridedRowLayout.RowLength = PhaseLength * Stride overflows int for strides near 2^31, " +
        "DepthwiseConvolution.RunChannels then throws ArgumentOutOfRangeException (gRPC INTERNAL / HTTP 500). Found by EngineProperties and the stress fuzz.";

    [Fact(Skip = HugeStrideDefect)]
    public void HugeStrideRunsInTheEngine()
    {
        // A legal request: the stride only means the output has one column.
        var options = new Conv2dOptions { StrideH = 2, StrideW = int.MaxValue, PadTop = 3, PadLeft = 2, PadBottom = 3, PadRight = 2 };
        var g = ConvShapes.Standard([1, 7, 6], [1, 1, 6, 1], [], options);
        var output = new float[g.OutputElements];
        float[] input = Enumerable.Range(0, 42).Select(i => (float)i).ToArray();
        float[] weight = [1, 1, 1, 1, 1, 1];

        new ConvolutionEngine().Convolve(g, input, weight, [], output);

        // Output column 0 reads input column -2 (left pad 2, kernel width 1): padding, so every value is 0.
        Assert.Equal([1L, 4L, 1L], g.OutputShape);
        Assert.All(output, v => Assert.Equal(0f, v));
    }
}
