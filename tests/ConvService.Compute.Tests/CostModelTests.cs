namespace ConvService.Compute.Tests;

public sealed class CostModelTests
{
    [Fact]
    public void TextbookCaseComesOutExactly()
    {
        var estimate = CostModel.Estimate([3, 12, 12], [5], 256, 0, Conv2dOptions.Default);

        Assert.Equal([256L, 8, 8], estimate.OutputShape);
        Assert.Equal(1_228_800, estimate.Standard.Multiplications);
        Assert.Equal(19_200, estimate.Standard.Parameters);
        Assert.Equal(4_800, estimate.Depthwise.Multiplications);
        Assert.Equal(49_152, estimate.Pointwise.Multiplications);
        Assert.Equal(53_952, estimate.Separable.Multiplications);
        Assert.Equal(843, estimate.Separable.Parameters);
        Assert.Equal(1_228_800d / 53_952d, estimate.MultiplicationRatio, 12);
        Assert.Equal(19_200d / 843d, estimate.ParameterRatio, 12);
    }

    [Fact]
    public void DepthMultiplierWidensTheDepthwiseStage()
    {
        var estimate = CostModel.Estimate([3, 12, 12], [5, 5], 256, 2, Conv2dOptions.Default);

        Assert.Equal(1_228_800, estimate.Standard.Multiplications);
        Assert.Equal(8 * 8 * 6 * 25, estimate.Depthwise.Multiplications);
        Assert.Equal(8 * 8 * 6 * 24, estimate.Depthwise.Additions);
        Assert.Equal(150, estimate.Depthwise.Parameters);
        Assert.Equal(8 * 8 * 256 * 6, estimate.Pointwise.Multiplications);
        Assert.Equal(8 * 8 * 256 * 5, estimate.Pointwise.Additions);
        Assert.Equal(256 * 6, estimate.Pointwise.Parameters);
    }

    [Fact]
    public void StrideAndPaddingShapeTheOutput()
    {
        var options = new Conv2dOptions { StrideH = 2, StrideW = 2, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 };
        var estimate = CostModel.Estimate([3, 12, 12], [3], 256, 0, options);

        Assert.Equal([256L, 6, 6], estimate.OutputShape);
        Assert.Equal(6 * 6 * 256 * 27, estimate.Standard.Multiplications);
        Assert.Equal(6 * 6 * 256 * 26, estimate.Standard.Additions);
        Assert.Equal(6 * 6 * 3 * 9, estimate.Depthwise.Multiplications);
    }

    [Fact]
    public void SamePaddingKeepsCeilOfInputOverStride()
    {
        var estimate = CostModel.Estimate([1, 3, 11, 11], [4], 8, 0, new Conv2dOptions { Padding = PaddingMode.Same, StrideH = 2, StrideW = 2 });
        Assert.Equal([1L, 8, 6, 6], estimate.OutputShape);
        Assert.Equal(6 * 6 * 8 * 48, estimate.Standard.Multiplications);
    }

    [Fact]
    public void BatchMultipliesEveryCountButNotTheParameters()
    {
        var single = CostModel.Estimate([1, 3, 12, 12], [5], 256, 0, Conv2dOptions.Default);
        var batch = CostModel.Estimate([4, 3, 12, 12], [5], 256, 0, Conv2dOptions.Default);

        Assert.Equal([4L, 256, 8, 8], batch.OutputShape);
        Assert.Equal(4 * single.Standard.Multiplications, batch.Standard.Multiplications);
        Assert.Equal(4 * single.Separable.Multiplications, batch.Separable.Multiplications);
        Assert.Equal(4 * single.Separable.Additions, batch.Separable.Additions);
        Assert.Equal(single.Standard.Parameters, batch.Standard.Parameters);
        Assert.Equal(single.Separable.Parameters, batch.Separable.Parameters);
    }

    [Fact]
    public void GroupsDivideTheStandardStageOnly()
    {
        var estimate = CostModel.Estimate([6, 10, 10], [3], 12, 0, new Conv2dOptions { Groups = 3 });

        Assert.Equal(8 * 8 * 12 * (2 * 9), estimate.Standard.Multiplications);
        Assert.Equal(12 * 2 * 9, estimate.Standard.Parameters);
        Assert.Equal(8 * 8 * 6 * 9, estimate.Depthwise.Multiplications);
        Assert.Equal(8 * 8 * 12 * 6, estimate.Pointwise.Multiplications);
    }

    [Theory]
    [InlineData(new int[] { }, 8, 0, "kernel_size", "must have 1 value [k] or 2 values [kh, kw], got 0")]
    [InlineData(new int[] { 3, 0 }, 8, 0, "kernel_size", "must be positive, got [3, 0]")]
    [InlineData(new int[] { 3 }, 0, 0, "output_channels", "must be between 1 and 2147483647, got 0")]
    [InlineData(new int[] { 3 }, 8, -1, "depth_multiplier", "must be positive (0 means 1), got -1")]
    public void InvalidRequestsNameTheField(int[] kernel, long outChannels, int multiplier, string field, string message)
    {
        var ex = Assert.Throws<ConvArgumentException>(() => CostModel.Estimate([3, 12, 12], kernel, outChannels, multiplier, Conv2dOptions.Default));
        Assert.Contains(new FieldViolation(field, message), ex.Violations);
    }

    [Fact]
    public void CostModelAgreesWithTheGeometry()
    {
        var options = new Conv2dOptions { StrideH = 2, DilationW = 2, PadTop = 1, PadLeft = 2, PadBottom = 0, PadRight = 1, Groups = 2 };
        var estimate = CostModel.Estimate([2, 4, 15, 17], [3, 4], 6, 0, options);
        var g = ConvShapes.Standard([2, 4, 15, 17], [6, 2, 3, 4], [], options);
        Assert.Equal(g.OutputShape, estimate.OutputShape);
        Assert.Equal(g.Multiplications, estimate.Standard.Multiplications);
        Assert.Equal(g.Additions, estimate.Standard.Additions);
        Assert.Equal(g.WeightElements, estimate.Standard.Parameters);
    }
}
