namespace ConvService.Stress;

/// <summary>The shape of one reference convolution (NCHW input, OIHW weight), padding already explicit.</summary>
public sealed record ReferenceGeometry(
    int Batch, int Channels, int Height, int Width, int OutChannels, int KernelH, int KernelW,
    int Stride, int Dilation, int PadTop, int PadLeft, int PadBottom, int PadRight, int Groups)
{
    public int OutHeight => (Height + PadTop + PadBottom - Dilation * (KernelH - 1) - 1) / Stride + 1;
    public int OutWidth => (Width + PadLeft + PadRight - Dilation * (KernelW - 1) - 1) / Stride + 1;
    public int InputElements => Batch * Channels * Height * Width;
    public int OutputElements => Batch * OutChannels * OutHeight * OutWidth;
    public int WeightElements => OutChannels * (Channels / Groups) * KernelH * KernelW;

    /// <summary>TensorFlow SAME padding: output ceil(in / stride), an odd total pad puts the extra at the bottom/right.</summary>
    public static ReferenceGeometry Same(int batch, int channels, int height, int width, int outChannels, int kernelH, int kernelW, int stride, int groups)
    {
        static (int Begin, int End) Pads(int size, int kernel, int stride)
        {
            int output = (size + stride - 1) / stride;
            int total = Math.Max(0, (output - 1) * stride + kernel - size);
            return (total / 2, total - total / 2);
        }

        var (top, bottom) = Pads(height, kernelH, stride);
        var (left, right) = Pads(width, kernelW, stride);
        return new(batch, channels, height, width, outChannels, kernelH, kernelW, stride, 1, top, left, bottom, right, groups);
    }
}
