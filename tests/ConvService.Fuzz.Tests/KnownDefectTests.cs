using ConvService.Compute;

namespace ConvService.Fuzz.Tests;

/// <summary>Reproducers of defects the fuzzers found in the compute core, kept as regression tests.</summary>
public sealed class KnownDefectTests
{
    /// <summary>
    /// Was: DepthwiseConvolution rented a ring buffer of about (dilated extent)^2 floats for SAME padding; a 271-byte request
    /// (3x15 input, 7x3 kernel, dilation 8192) peaked the service at 3.3 GB RSS, dilation 65536 threw 'buffer too large' (INTERNAL).
    /// </summary>
    [Fact]
    public void HugeDilationRunsInTheEngineWithoutHugeBuffers()
    {
        // Legal: the dilated 7x3 kernel (393,217 x 131,073) fits SAME padding; every tap but the centre falls in padding.
        var options = new Conv2dOptions { DilationH = 65_536, DilationW = 65_536, Padding = PaddingMode.Same };
        var g = ConvShapes.Standard([1, 3, 15], [1, 1, 7, 3], [], options);
        var output = new float[g.OutputElements];
        float[] input = Enumerable.Range(0, 45).Select(i => (float)i).ToArray();
        float[] weight = Enumerable.Range(0, 21).Select(i => (float)i).ToArray();
        long peakBefore = Environment.WorkingSet;

        new ConvolutionEngine().Convolve(g, input, weight, [], output);

        // Only the centre tap (row 3, column 1: weight 10) lands inside the input, so the output is 10 x the input.
        Assert.Equal(input.Select(v => 10 * v), output);
        // Generous bound: other test classes run in parallel in this process; the defect needed gigabytes.
        Assert.True(Environment.WorkingSet - peakBefore < 1L << 30, "the engine grew the working set by more than 1 GiB for a 45-element input");
    }

    /// <summary>Was: StridedRowLayout.RowLength = PhaseLength * Stride overflowed int, DepthwiseConvolution threw (INTERNAL).</summary>
    [Fact]
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
