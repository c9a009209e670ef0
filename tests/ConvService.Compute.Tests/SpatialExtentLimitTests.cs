using ConvService.Compute;

namespace ConvService.Compute.Tests;

/// <summary>
/// Extents near 2^31 once reached the kernels and overflowed their 32-bit index arithmetic
/// (found by the host's random-request test: dilation 2147483647 with SAME padding).
/// </summary>
public sealed class SpatialExtentLimitTests
{
    [Fact]
    public void HugeDilationWithSamePaddingIsRefusedNamingTheKernel()
    {
        var error = Assert.Throws<ConvArgumentException>(() => ConvShapes.Standard(
            [2, 2, 7, 3], [2, 1, 2, 2], [2],
            new Conv2dOptions { StrideH = 2, StrideW = 2, DilationH = int.MaxValue, Padding = PaddingMode.Same, Groups = 2 }));

        var violation = Assert.Single(error.Violations);
        Assert.Equal("weight.shape", violation.Field);
        Assert.Contains("dilated kernel extent", violation.Description);
    }

    [Fact]
    public void HugePadsAreRefusedNamingThePads()
    {
        var error = Assert.Throws<ConvArgumentException>(() => ConvShapes.Standard(
            [1, 1, 4, 4], [1, 1, 3, 3], [],
            new Conv2dOptions { PadTop = int.MaxValue, PadBottom = int.MaxValue }));

        Assert.Equal("options.pads", Assert.Single(error.Violations).Field);
    }

    [Fact]
    public void ExtentsAtTheLimitAreAccepted()
    {
        var geometry = ConvShapes.Standard(
            [1, 1, 1, 4], [1, 1, 1, 2], [],
            new Conv2dOptions { PadTop = (int)(ConvShapes.MaxSpatialExtent - 1) / 2, PadBottom = (int)(ConvShapes.MaxSpatialExtent - 1) / 2, StrideH = 1 << 29 });

        Assert.True(geometry.OutHeight >= 1);
    }
}
