namespace ConvService.Compute.Kernels;

/// <summary>
/// What a direct depthwise kernel needs of a geometry besides its own constants: the input and output row
/// widths and the left padding (output column x reads input columns from <c>x * stride - PadLeft</c> on).
/// <see cref="PrefetchNextRows"/>: the planes stream from memory, so a kernel that can prefetches the rows the next
/// group adds (<see cref="IDirectDepthwiseKernel.PrefetchRows"/> row-table entries past its input rows).
/// <see cref="AlignedChunks"/>: rows are wide enough that starting the chunks on the output row's 64-byte line pays for
/// the extra partial chunk it can cost.
/// </summary>
internal readonly record struct DirectRowShape(int InWidth, int OutWidth, int PadLeft, bool PrefetchNextRows = false, bool AlignedChunks = false);
