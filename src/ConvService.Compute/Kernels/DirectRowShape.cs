namespace ConvService.Compute.Kernels;

/// <summary>
/// What a direct depthwise kernel needs of a geometry besides its own constants: the input and output row
/// widths and the left padding (output column x reads input columns from <c>x * stride - PadLeft</c> on).
/// <see cref="PrefetchNextRows"/>: the planes stream from memory, so a kernel that can prefetches the rows the next
/// group adds (<see cref="IDirectDepthwiseKernel.PrefetchRows"/> row-table entries past its input rows).
/// <see cref="AlignedChunks"/>: rows are wide enough that starting the chunks on the output row's 64-byte line pays for
/// the extra partial chunk it can cost.
/// </summary>
internal readonly record struct DirectRowShape(int InWidth, int OutWidth, int PadLeft, bool PrefetchNextRows = false, bool AlignedChunks = false)
{
    /// <summary>
    /// True when <paramref name="width"/> lies within three columns of a (nonzero) multiple of <paramref name="columns"/>
    /// (a power of two): consecutive rows then start at nearly the same address modulo <paramref name="columns"/> floats,
    /// so the rows a kernel keeps in flight share a few L1 sets (64 sets of 64 bytes, 8 ways, on Zen 4).
    /// </summary>
    public static bool RowsNearMultipleOf(int width, int columns)
    {
        int offset = width & (columns - 1);
        return width >= columns - 3 && (offset <= 3 || offset >= columns - 3);
    }
}
