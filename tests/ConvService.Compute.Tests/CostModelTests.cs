using ConvService.Compute;

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
    }
}
