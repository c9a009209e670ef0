using ConvService.Compute;

namespace ConvService.Benchmarks;

/// <summary>The shapes of issue 3's table, batch 1, float32, by id.</summary>
internal static class ShapeCatalogue
{
    public static IReadOnlyList<BenchShape> All { get; } =
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

    public static BenchShape Get(string id) =>
        All.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown shape '{id}'; known: {string.Join(", ", All.Select(s => s.Id))}");

    private static Conv2dOptions Pads(int p) => new() { PadTop = p, PadLeft = p, PadBottom = p, PadRight = p };

    private static BenchShape Image(string id, string description, int k, bool gaussian) => new()
    {
        Id = id, Description = description, Kind = ShapeKind.Standard,
        InputShape = [1, 1, 1024, 1024], WeightShape = [1, 1, k, k], Options = Pads(k / 2),
        GaussianKernel = gaussian, OpenCv = gaussian ? OpenCvForm.Filter2DAndSeparable : OpenCvForm.Filter2D,
    };
}
