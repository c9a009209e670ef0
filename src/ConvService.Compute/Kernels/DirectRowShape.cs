namespace ConvService.Compute.Kernels;

/// <summary>
/// What a direct depthwise kernel needs of a geometry besides its own constants: the input and output row
/// widths and the left padding (output column x reads input columns from <c>x * stride - PadLeft</c> on).
/// <see cref="PrefetchNextRows"/>: the planes stream from memory, so a kernel that can should prefetch the rows
/// the next group adds (row-table entries from <see cref="IDirectDepthwiseKernel.InputRows"/> on).
/// </summary>
internal readonly record struct DirectRowShape(int InWidth, int OutWidth, int PadLeft, bool PrefetchNextRows = false, bool AlignedChunks = false);
