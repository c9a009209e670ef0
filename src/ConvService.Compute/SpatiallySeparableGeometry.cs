namespace ConvService.Compute;

/// <summary>
/// Each channel filtered by a Kh-tap column kernel, then a Kw-tap row kernel: the same result as
/// the depthwise convolution <see cref="Equivalent"/> whose every kernel is column ⊗ row.
/// </summary>
public sealed record SpatiallySeparableGeometry(Conv2dGeometry Equivalent)
{
    /// <summary>Kh + Kw multiplications per output element, batch included.</summary>
    public long Multiplications => Equivalent.OutputElements * (Equivalent.KernelH + (long)Equivalent.KernelW);
    public long[] OutputShape => Equivalent.OutputShape;
    public long OutputElements => Equivalent.OutputElements;
}
