namespace ConvService.Compute.Kernels;

/// <summary>
/// How per-channel kernels split work across threads: whole channel planes when there are many,
/// otherwise each plane is cut into blocks of output rows (a multiple of 4, the depthwise row
/// group) so that a one- or three-channel image still gives every thread its share.
/// </summary>
internal readonly record struct RowBlocks(int BlockRows, int BlocksPerPlane)
{
    public static RowBlocks For(long planes, int outHeight, int threads)
    {
        long wanted = 8L * threads;
        if (threads <= 1 || planes >= wanted)
        {
            return new RowBlocks(outHeight, 1);
        }

        long perPlane = (wanted + planes - 1) / planes;
        int rows = (int)Math.Max(4, ((outHeight + perPlane - 1) / perPlane + 3) / 4 * 4);
        return new RowBlocks(rows, (outHeight + rows - 1) / rows);
    }
}
