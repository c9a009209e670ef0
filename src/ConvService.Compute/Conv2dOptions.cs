namespace ConvService.Compute;

/// <summary>Stride, dilation, padding and groups of a 2-D convolution, per axis, as the caller asked.</summary>
public readonly record struct Conv2dOptions
{
    public Conv2dOptions()
    {
    }

    public int StrideH { get; init; } = 1;
    public int StrideW { get; init; } = 1;
    public int DilationH { get; init; } = 1;
    public int DilationW { get; init; } = 1;
    public int PadTop { get; init; }
    public int PadLeft { get; init; }
    public int PadBottom { get; init; }
    public int PadRight { get; init; }
    public PaddingMode Padding { get; init; } = PaddingMode.Explicit;
    public int Groups { get; init; } = 1;

    public static Conv2dOptions Default => new();
}
