using ConvService.Compute;

namespace ConvService.Benchmarks;

/// <summary>
/// Benchmark shapes by id, float32: <see cref="Table"/> is issue 3's table (batch 1);
/// <see cref="Extra"/> are common layers outside it (strides, groups, dilation, small images, batch),
/// measured so the design is tuned for convolutions in general, not for the table.
/// </summary>
internal static class ShapeCatalogue
{
    public static IReadOnlyList<BenchShape> Table { get; } =
    [
        new()
        {
            Id = "S1", Description = "3x12x12 -> 256, 5x5 valid", Kind = ShapeKind.Standard,
            InputShape = [1, 3, 12, 12], WeightShape = [256, 3, 5, 5], HasBias = true,
            Options = new Conv2dOptions { Padding = PaddingMode.Valid },
        },
        new()
        {
            Id = "S2", Description = "32x112x112 -> 64, 3x3 pad 1", Kind = ShapeKind.Standard,
            InputShape = [1, 32, 112, 112], WeightShape = [64, 32, 3, 3], HasBias = true, Options = Pads(1),
        },
        new()
        {
            Id = "S3", Description = "depthwise 3x3 on 64x112x112, pad 1", Kind = ShapeKind.Standard,
            InputShape = [1, 64, 112, 112], WeightShape = [64, 1, 3, 3], HasBias = true, Options = Pads(1) with { Groups = 64 },
        },
        new()
        {
            Id = "S4", Description = "pointwise 64 -> 128 on 112x112", Kind = ShapeKind.Standard,
            InputShape = [1, 64, 112, 112], WeightShape = [128, 64, 1, 1], HasBias = true, Options = Conv2dOptions.Default,
        },
        new()
        {
            Id = "S5", Description = "128x56x56 -> 128, 3x3 pad 1", Kind = ShapeKind.Standard,
            InputShape = [1, 128, 56, 56], WeightShape = [128, 128, 3, 3], HasBias = true, Options = Pads(1),
        },
        Image("S6", "1x1024x1024, random 5x5, pad 2", 5, gaussian: false),
        Image("S6g", "1x1024x1024, 5x5 Gaussian as a 2-D kernel, pad 2", 5, gaussian: true),
        Image("S6k7", "1x1024x1024, random 7x7, pad 3", 7, gaussian: false),
        Image("S6k7g", "1x1024x1024, 7x7 Gaussian as a 2-D kernel, pad 3", 7, gaussian: true),
        new()
        {
            Id = "S7", Description = "RGB 3x1080x1920, depthwise 7x7 (one kernel), pad 3", Kind = ShapeKind.Standard,
            InputShape = [1, 3, 1080, 1920], WeightShape = [3, 1, 7, 7], Options = Pads(3) with { Groups = 3 },
            SharedChannelKernel = true, OpenCv = OpenCvForm.InterleavedFilter2D,
        },
        new()
        {
            Id = "S8", Description = "depthwise 3x3 pad 1 + pointwise 128->128 on 128x56x56", Kind = ShapeKind.DepthwiseSeparable,
            InputShape = [1, 128, 56, 56], WeightShape = [128, 1, 3, 3], PointwiseWeightShape = [128, 128, 1, 1],
            HasBias = true, Options = Pads(1),
        },
    ];

    public static IReadOnlyList<BenchShape> Extra { get; } =
    [
        new()
        {
            Id = "X1", Description = "depthwise 3x3 on 128x56x56, pad 1 (S8's first stage)", Kind = ShapeKind.Standard,
            InputShape = [1, 128, 56, 56], WeightShape = [128, 1, 3, 3], HasBias = true, Options = Pads(1) with { Groups = 128 },
        },
        new()
        {
            Id = "X2", Description = "depthwise 3x3 stride 2 on 64x112x112, pad 1", Kind = ShapeKind.Standard,
            InputShape = [1, 64, 112, 112], WeightShape = [64, 1, 3, 3], HasBias = true,
            Options = Pads(1) with { Groups = 64, StrideH = 2, StrideW = 2 },
        },
        new()
        {
            Id = "X3", Description = "depthwise 5x5 on 96x28x28, pad 2", Kind = ShapeKind.Standard,
            InputShape = [1, 96, 28, 28], WeightShape = [96, 1, 5, 5], HasBias = true, Options = Pads(2) with { Groups = 96 },
        },
        new()
        {
            Id = "X4", Description = "64x56x56 -> 128, 3x3 stride 2, pad 1", Kind = ShapeKind.Standard,
            InputShape = [1, 64, 56, 56], WeightShape = [128, 64, 3, 3], HasBias = true,
            Options = Pads(1) with { StrideH = 2, StrideW = 2 },
        },
        new()
        {
            Id = "X5", Description = "3x224x224 -> 64, 7x7 stride 2, pad 3 (ResNet stem)", Kind = ShapeKind.Standard,
            InputShape = [1, 3, 224, 224], WeightShape = [64, 3, 7, 7], HasBias = true,
            Options = Pads(3) with { StrideH = 2, StrideW = 2 },
        },
        new()
        {
            Id = "X6", Description = "256x14x14 -> 256, 3x3 pad 1", Kind = ShapeKind.Standard,
            InputShape = [1, 256, 14, 14], WeightShape = [256, 256, 3, 3], HasBias = true, Options = Pads(1),
        },
        new()
        {
            Id = "X7", Description = "pointwise 256 -> 256 on 14x14, batch 4", Kind = ShapeKind.Standard,
            InputShape = [4, 256, 14, 14], WeightShape = [256, 256, 1, 1], HasBias = true, Options = Conv2dOptions.Default,
        },
        new()
        {
            Id = "X8", Description = "128x56x56 -> 128, 3x3 pad 1, 32 groups (ResNeXt)", Kind = ShapeKind.Standard,
            InputShape = [1, 128, 56, 56], WeightShape = [128, 4, 3, 3], HasBias = true, Options = Pads(1) with { Groups = 32 },
        },
        new()
        {
            Id = "X9", Description = "64x56x56 -> 64, 3x3 dilation 2, pad 2", Kind = ShapeKind.Standard,
            InputShape = [1, 64, 56, 56], WeightShape = [64, 64, 3, 3], HasBias = true,
            Options = Pads(2) with { DilationH = 2, DilationW = 2 },
        },
        new()
        {
            Id = "X10", Description = "depthwise 3x3 + pointwise 32->64 on 32x112x112, pad 1", Kind = ShapeKind.DepthwiseSeparable,
            InputShape = [1, 32, 112, 112], WeightShape = [32, 1, 3, 3], PointwiseWeightShape = [64, 32, 1, 1],
            HasBias = true, Options = Pads(1),
        },
    ];

    public static IReadOnlyList<BenchShape> All { get; } = [.. Table, .. Extra];

    /// <summary>A comma-separated list of ids, or <c>table</c>, <c>extra</c> or <c>all</c>.</summary>
    public static IReadOnlyList<BenchShape> Select(string list) => list.ToLowerInvariant() switch
    {
        "table" => Table,
        "extra" => Extra,
        "all" => All,
        _ => list.Split(',').Select(Get).ToArray(),
    };

    public static BenchShape Get(string id) =>
        All.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown shape '{id}'; known: {string.Join(", ", All.Select(s => s.Id))}, or table, extra, all");

    private static Conv2dOptions Pads(int p) => new() { PadTop = p, PadLeft = p, PadBottom = p, PadRight = p };

    private static BenchShape Image(string id, string description, int k, bool gaussian) => new()
    {
        Id = id, Description = description, Kind = ShapeKind.Standard,
        InputShape = [1, 1, 1024, 1024], WeightShape = [1, 1, k, k], Options = Pads(k / 2),
        GaussianKernel = gaussian, OpenCv = gaussian ? OpenCvForm.Filter2DAndSeparable : OpenCvForm.Filter2D,
    };
}
