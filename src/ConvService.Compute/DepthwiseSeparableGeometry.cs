namespace ConvService.Compute;

/// <summary>
/// A depthwise KxK stage (groups = C, C*M outputs, output channel o reads input channel o / M)
/// followed by a pointwise 1x1 stage over its output.
/// </summary>
public sealed record DepthwiseSeparableGeometry(Conv2dGeometry Depthwise, Conv2dGeometry Pointwise, int DepthMultiplier)
{
    public long Multiplications => Depthwise.Multiplications + Pointwise.Multiplications;
    public long[] OutputShape => Pointwise.OutputShape;
    public long OutputElements => Pointwise.OutputElements;
}
