namespace ConvService.Compute.Tests;

/// <summary>Every shape rule: the violation names the contract field and says what is wrong.</summary>
public sealed class ConvShapesTests
{
    private static readonly Conv2dOptions Pad1 = new() { PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1 };

    [Theory]
    [InlineData(new long[] { 3, 12 }, "input.shape", "must have rank 4 [N, C, H, W] or rank 3 [C, H, W], got rank 2")]
    [InlineData(new long[] { 1, 1, 3, 12, 12 }, "input.shape", "must have rank 4 [N, C, H, W] or rank 3 [C, H, W], got rank 5")]
    [InlineData(new long[] { 1, 0, 12, 12 }, "input.shape", "dimension 1 must be positive, got 0")]
    [InlineData(new long[] { 3, 12, -4 }, "input.shape", "dimension 2 must be positive, got -4")]
    [InlineData(new long[] { 1, 3, 3_000_000_000, 12 }, "input.shape", "dimension 2 must not exceed 2147483647, got 3000000000")]
    [InlineData(new long[] { 65536, 3, 65536, 12 }, "input.shape", "tensor would have 154618822656 elements; the limit is 2147483647")]
    [InlineData(new long[] { 2147483647, 2147483647, 2147483647, 4 }, "input.shape", "element count overflows 64 bits")]
    public void InputShapeRules(long[] input, string field, string message) =>
        AssertViolation(() => ConvShapes.Standard(input, [4, 3, 3, 3], [], Conv2dOptions.Default), field, message);

    [Theory]
    [InlineData(new long[] { 4, 3, 3 }, "weight.shape", "must have rank 4 [out_channels, in_channels / groups, kernel_h, kernel_w], got rank 3")]
    [InlineData(new long[] { 4, 3, 0, 3 }, "weight.shape", "dimension 2 must be positive, got 0")]
    [InlineData(new long[] { 4, 2, 3, 3 }, "weight.shape", "dimension 1 must equal input channels / groups = 3, got 2")]
    [InlineData(new long[] { 4, 3, 13, 3 }, "weight.shape", "kernel 13x3 must not be larger than the padded input 12x12")]
    public void WeightShapeRules(long[] weight, string field, string message) =>
        AssertViolation(() => ConvShapes.Standard([1, 3, 12, 12], weight, [], Conv2dOptions.Default), field, message);

    [Fact]
    public void DilatedKernelLargerThanThePaddedInputIsRejected() =>
        AssertViolation(
            () => ConvShapes.Standard([3, 6, 6], [4, 3, 3, 3], [], new Conv2dOptions { DilationH = 3, DilationW = 1 }),
            "weight.shape", "kernel 3x3 (dilated: 7x3) must not be larger than the padded input 6x6");

    [Fact]
    public void KernelAsLargeAsThePaddedInputIsAccepted()
    {
        var g = ConvShapes.Standard([3, 6, 6], [4, 3, 8, 8], [], Pad1);
        Assert.Equal(1, g.OutHeight);
        Assert.Equal(1, g.OutWidth);
    }

    [Theory]
    [InlineData(0, 1, 1, 1, "options.stride", "must be positive, got [0, 1]")]
    [InlineData(1, -2, 1, 1, "options.stride", "must be positive, got [1, -2]")]
    [InlineData(1, 1, 0, 1, "options.dilation", "must be positive, got [0, 1]")]
    [InlineData(1, 1, 1, -1, "options.dilation", "must be positive, got [1, -1]")]
    public void StrideAndDilationMustBePositive(int sh, int sw, int dh, int dw, string field, string message) =>
        AssertViolation(
            () => ConvShapes.Standard([1, 3, 12, 12], [4, 3, 3, 3], [], new Conv2dOptions { StrideH = sh, StrideW = sw, DilationH = dh, DilationW = dw }),
            field, message);

    [Fact]
    public void NegativePadsAreRejected() =>
        AssertViolation(
            () => ConvShapes.Standard([1, 3, 12, 12], [4, 3, 3, 3], [], new Conv2dOptions { PadTop = 1, PadLeft = -1 }),
            "options.pads", "must be non-negative, got [1, -1, 0, 0]");

    [Theory]
    [InlineData(PaddingMode.Same, "must be empty when padding_mode is SAME")]
    [InlineData(PaddingMode.Valid, "must be empty when padding_mode is VALID")]
    public void PadsWithSameOrValidAreRejected(PaddingMode mode, string message) =>
        AssertViolation(
            () => ConvShapes.Standard([1, 3, 12, 12], [4, 3, 3, 3], [], new Conv2dOptions { Padding = mode, PadBottom = 1 }),
            "options.pads", message);

    [Fact]
    public void UnknownPaddingModeIsRejected() =>
        AssertViolation(
            () => ConvShapes.Standard([1, 3, 12, 12], [4, 3, 3, 3], [], new Conv2dOptions { Padding = (PaddingMode)7 }),
            "options.padding_mode", "unknown value 7");

    [Theory]
    [InlineData(0, "options.groups", "must be positive, got 0")]
    [InlineData(-3, "options.groups", "must be positive, got -3")]
    [InlineData(2, "options.groups", "input channels (3) must be divisible by groups (2)")]
    public void GroupsRules(int groups, string field, string message) =>
        AssertViolation(() => ConvShapes.Standard([1, 3, 12, 12], [4, 1, 3, 3], [], new Conv2dOptions { Groups = groups }), field, message);

    [Fact]
    public void OutputChannelsMustBeDivisibleByGroups() =>
        AssertViolation(
            () => ConvShapes.Standard([1, 6, 12, 12], [4, 2, 3, 3], [], new Conv2dOptions { Groups = 3 }),
            "options.groups", "output channels (4) must be divisible by groups (3)");

    [Theory]
    [InlineData(new long[] { 3 }, "must be [4] (one value per output channels), got [3]")]
    [InlineData(new long[] { 4, 1 }, "must be [4] (one value per output channels), got [4, 1]")]
    public void BiasLengthMustMatchOutputChannels(long[] bias, string message) =>
        AssertViolation(() => ConvShapes.Standard([1, 3, 12, 12], [4, 3, 3, 3], bias, Conv2dOptions.Default), "bias.shape", message);

    [Fact]
    public void EveryViolationIsReportedAtOnce()
    {
        var ex = Assert.Throws<ConvArgumentException>(
            () => ConvShapes.Standard([1, 3, 12, 12], [4, 3, 3], [], new Conv2dOptions { StrideH = 0, PadTop = -1 }));
        Assert.Equal(["options.stride", "options.pads", "weight.shape"], ex.Violations.Select(v => v.Field).ToArray());
        Assert.Contains("options.stride: must be positive, got [0, 1]", ex.Message);
    }

    [Theory]
    [InlineData(new long[] { 4, 1, 3, 3 }, new long[] { 8, 6, 1, 1 }, "depthwise_separable.depthwise_weight.shape",
        "dimension 0 must be a multiple of the input channels (3) (channels * depth_multiplier), got 4")]
    [InlineData(new long[] { 6, 2, 3, 3 }, new long[] { 8, 6, 1, 1 }, "depthwise_separable.depthwise_weight.shape",
        "dimension 1 must be 1 (one input channel per depthwise filter), got 2")]
    [InlineData(new long[] { 6, 1, 3, 3 }, new long[] { 8, 3, 1, 1 }, "depthwise_separable.pointwise_weight.shape",
        "dimension 1 must equal the depthwise output channels (6), got 3")]
    [InlineData(new long[] { 6, 1, 3, 3 }, new long[] { 8, 6, 3, 1 }, "depthwise_separable.pointwise_weight.shape", "kernel must be 1x1, got 3x1")]
    [InlineData(new long[] { 6, 1, 3 }, new long[] { 8, 6, 1, 1 }, "depthwise_separable.depthwise_weight.shape",
        "must have rank 4 [channels * depth_multiplier, 1, kernel_h, kernel_w], got rank 3")]
    [InlineData(new long[] { 6, 1, 13, 3 }, new long[] { 8, 6, 1, 1 }, "depthwise_separable.depthwise_weight.shape",
        "kernel 13x3 must not be larger than the padded input 12x12")]
    public void DepthwiseSeparableShapeRules(long[] depthwise, long[] pointwise, string field, string message) =>
        AssertViolation(() => ConvShapes.DepthwiseSeparable([1, 3, 12, 12], depthwise, pointwise, [], [], Conv2dOptions.Default), field, message);

    [Fact]
    public void DepthwiseSeparableBiasLengthsAreChecked()
    {
        AssertViolation(
            () => ConvShapes.DepthwiseSeparable([3, 12, 12], [6, 1, 3, 3], [8, 6, 1, 1], [3], [], Conv2dOptions.Default),
            "depthwise_separable.depthwise_bias.shape", "must be [6] (one value per depthwise output channels), got [3]");
        AssertViolation(
            () => ConvShapes.DepthwiseSeparable([3, 12, 12], [6, 1, 3, 3], [8, 6, 1, 1], [], [6], Conv2dOptions.Default),
            "depthwise_separable.pointwise_bias.shape", "must be [8] (one value per pointwise output channels), got [6]");
    }

    [Fact]
    public void DepthwiseSeparableIgnoresGroupsAndKeepsTheMultiplier()
    {
        var g = ConvShapes.DepthwiseSeparable([2, 3, 12, 12], [6, 1, 3, 3], [8, 6, 1, 1], [], [], Pad1 with { Groups = 0 });
        Assert.Equal(2, g.DepthMultiplier);
        Assert.Equal(3, g.Depthwise.Groups);
        Assert.Equal([2L, 8, 12, 12], g.OutputShape);
    }

    [Theory]
    [InlineData(0, 3, "spatially_separable.column", "must have at least one tap")]
    [InlineData(3, 0, "spatially_separable.row", "must have at least one tap")]
    [InlineData(3, 13, "spatially_separable", "kernel 3x13 must not be larger than the padded input 12x12")]
    public void SpatiallySeparableRules(long column, long row, string field, string message) =>
        AssertViolation(() => ConvShapes.SpatiallySeparable([3, 12, 12], column, row, Conv2dOptions.Default), field, message);

    [Theory]
    [InlineData(12, 1, 3, 12, 1, 1)]   // stride 1, odd kernel: 1 each side
    [InlineData(12, 2, 4, 6, 1, 1)]    // total 2
    [InlineData(11, 2, 4, 6, 1, 2)]    // odd total: the extra one at the end
    [InlineData(12, 2, 2, 6, 0, 0)]
    [InlineData(7, 3, 1, 3, 0, 0)]
    public void SameFollowsTensorFlow(int size, int stride, int kernel, int expectedOut, int padBegin, int padEnd)
    {
        var g = ConvShapes.Standard([1, 1, size, size], [1, 1, kernel, kernel], [], new Conv2dOptions { Padding = PaddingMode.Same, StrideH = stride, StrideW = stride });
        Assert.Equal(expectedOut, g.OutHeight);
        Assert.Equal((padBegin, padEnd, padBegin, padEnd), (g.PadTop, g.PadBottom, g.PadLeft, g.PadRight));
    }

    [Fact]
    public void AsymmetricPadsKeepTheirOrder()
    {
        var g = ConvShapes.Standard([1, 1, 10, 10], [1, 1, 3, 3], [], new Conv2dOptions { PadTop = 1, PadLeft = 2, PadBottom = 3, PadRight = 4 });
        Assert.Equal((1, 2, 3, 4), (g.PadTop, g.PadLeft, g.PadBottom, g.PadRight));
        Assert.Equal((10 + 1 + 3 - 3) + 1, g.OutHeight);
        Assert.Equal((10 + 2 + 4 - 3) + 1, g.OutWidth);
        Assert.Equal([1L, 1, 12, 14], g.OutputShape);
    }

    private static void AssertViolation(Action act, string field, string message)
    {
        var ex = Assert.Throws<ConvArgumentException>(act);
        Assert.Contains(new FieldViolation(field, message), ex.Violations);
    }
}
