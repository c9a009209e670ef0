namespace ConvService.Compute;

/// <summary>
/// A fully resolved, validated 2-D convolution: every dimension positive and within range,
/// padding resolved (SAME/VALID turned into explicit pads), output size computed. Kernels
/// trust it; build it with <see cref="ConvShapes"/>.
/// </summary>
public sealed record Conv2dGeometry
{
    public required int Batch { get; init; }
    public required int InChannels { get; init; }
    public required int InHeight { get; init; }
    public required int InWidth { get; init; }
    public required int OutChannels { get; init; }
    public required int KernelH { get; init; }
    public required int KernelW { get; init; }
    public required int StrideH { get; init; }
    public required int StrideW { get; init; }
    public required int DilationH { get; init; }
    public required int DilationW { get; init; }
    public required int PadTop { get; init; }
    public required int PadLeft { get; init; }
    public required int PadBottom { get; init; }
    public required int PadRight { get; init; }
    public required int Groups { get; init; }
    public required int OutHeight { get; init; }
    public required int OutWidth { get; init; }

    /// <summary>True when the caller sent a 3-D CHW input; the output then stays 3-D.</summary>
    public required bool InputIsRank3 { get; init; }

    public int InChannelsPerGroup => InChannels / Groups;
    public int OutChannelsPerGroup => OutChannels / Groups;

    /// <summary>True for one group per input channel (a depthwise convolution, any depth multiplier).</summary>
    public bool IsDepthwise => Groups == InChannels;

    public long InputElements => (long)Batch * InChannels * InHeight * InWidth;
    public long OutputElements => (long)Batch * OutChannels * OutHeight * OutWidth;
    public long WeightElements => (long)OutChannels * InChannelsPerGroup * KernelH * KernelW;

    /// <summary>Multiply-accumulates of the direct algorithm, batch included.</summary>
    public long Multiplications => OutputElements * InChannelsPerGroup * KernelH * KernelW;

    /// <summary>Additions of the direct algorithm: each output sums its terms (bias excluded).</summary>
    public long Additions => OutputElements * ((long)InChannelsPerGroup * KernelH * KernelW - 1);

    /// <summary>The output shape, with the input's rank.</summary>
    public long[] OutputShape => InputIsRank3
        ? [OutChannels, OutHeight, OutWidth]
        : [Batch, OutChannels, OutHeight, OutWidth];

    public string ShapeSummary =>
        $"{Batch}x{InChannels}x{InHeight}x{InWidth} -> {OutChannels}x{OutHeight}x{OutWidth}, k{KernelH}x{KernelW}" +
        $" s{StrideH}x{StrideW} d{DilationH}x{DilationW} p{PadTop},{PadLeft},{PadBottom},{PadRight} g{Groups}";
}
