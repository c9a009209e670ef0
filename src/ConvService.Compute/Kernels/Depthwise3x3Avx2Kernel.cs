using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// A 3x3 per-channel filter with stride 1, dilation 1 and one column of zero padding on each side (the geometries of
/// <see cref="Depthwise3x3Avx512Kernel"/>) with AVX2 and FMA, straight from the input plane (no padded copy), four output
/// rows at a time, eight columns at a time. AVX2 has no cheap cross-lane shift (no <c>valignd</c>), so the left and
/// right neighbours are unaligned loads at x - 1 and x + 1 rather than the shifted column sums of the AVX-512 kernel:
/// nine FMAs per output vector either way, and no shuffles. No load leaves the row: the first vector forms its left
/// neighbours, the last (at <c>width - 8</c>, overlapping the one before) its right neighbours, from the centre load by
/// a lane shift with a zero at the padding column, so every store is a whole vector too. Rows narrower than nine
/// columns go through a zero-padded copy. Rows above or below the image read a zero row.
/// </summary>
/// <remarks>
/// It walks a whole range of rows per call, the taps broadcast once, rather than one call per row group through
/// <see cref="IDirectDepthwiseKernel"/>: measured at Vector256 with <c>DOTNET_EnableAVX512=0</c> (16 registers) on Zen 4,
/// 1 thread, 64x112x112 0.198 → 0.190 ms and 128x56x56 0.099 → 0.086 ms (the general ring path: 0.434 and 0.247 ms).
/// Widths near multiples of 1024 columns run two output rows per pass (<see cref="RowsShareCacheSets"/>). They remain
/// slower when the output plane is congruent to the input modulo 4 KB (1024 columns: 0.045 ms against 0.028 at a 1 KB
/// offset); the AVX-512 row kernel has a slow band of output offsets too (16 to 48 floats past congruent).
/// </remarks>
internal static unsafe class Depthwise3x3Avx2Kernel
{
    /// <summary>Output rows per pass.</summary>
    public const int Rows = 4;

    /// <summary>Input rows one pass reads.</summary>
    public const int InputRows = Rows + 2;

    private const int V = 8;

    /// <summary>Floats of one row of the zero-padded copy narrow rows go through: padding, the row (at most V), padding.</summary>
    private const int NarrowStride = 3 * V;

    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>The geometries of <see cref="Depthwise3x3Avx512Kernel"/>: same-width output, one column of padding on each side.</summary>
    public static bool Fits(Conv2dGeometry g) => Depthwise3x3Avx512Kernel.Fits(g);

    /// <summary>
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of one filter over the
    /// <paramref name="width"/> x <paramref name="height"/> <paramref name="plane"/> (output row oy reads input rows
    /// <c>oy - padTop</c> to <c>oy - padTop + 2</c>, same width out), row rowStart written at <paramref name="destination"/>;
    /// <paramref name="weights"/>: the nine taps row-major; <paramref name="zeroRow"/>: at least <paramref name="width"/> zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void RunRows(
        float* plane, int width, int height, int padTop, int rowStart, int rowEnd, float* weights, float bias, float* destination, float* zeroRow)
    {
        if (width <= V)
        {
            RunNarrow(plane, width, height, padTop, rowStart, rowEnd, weights, bias, destination, zeroRow);
            return;
        }

        if (RowsShareCacheSets(width))
        {
            RunRowPairs(plane, width, height, padTop, rowStart, rowEnd, weights, bias, destination, zeroRow);
            return;
        }

        // The nine taps as locals (a struct of them is not enregistered and costs a copy per use).
        var w00 = Vector256.Create(weights[0]);
        var w01 = Vector256.Create(weights[1]);
        var w02 = Vector256.Create(weights[2]);
        var w10 = Vector256.Create(weights[3]);
        var w11 = Vector256.Create(weights[4]);
        var w12 = Vector256.Create(weights[5]);
        var w20 = Vector256.Create(weights[6]);
        var w21 = Vector256.Create(weights[7]);
        var w22 = Vector256.Create(weights[8]);
        var b = Vector256.Create(bias);
        for (int oy = rowStart; oy < rowEnd; oy += Rows)
        {
            int iy = oy - padTop;
            float* in0 = InputRow(plane, width, height, iy, zeroRow);
            float* in1 = InputRow(plane, width, height, iy + 1, zeroRow);
            float* in2 = InputRow(plane, width, height, iy + 2, zeroRow);
            float* in3 = InputRow(plane, width, height, iy + 3, zeroRow);
            float* in4 = InputRow(plane, width, height, iy + 4, zeroRow);
            float* in5 = InputRow(plane, width, height, iy + 5, zeroRow);
            int rowCount = Math.Min(Rows, rowEnd - oy);
            float* d = destination + ((long)(oy - rowStart) * width);

            Step<FirstVector>(in0, in1, in2, in3, in4, in5, 0, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, d, width, rowCount);

            // Interior vectors: the right neighbours (up to column x + 8) lie in the row.
            int x = V;
            for (; x + V < width; x += V)
            {
                Step<Interior>(in0, in1, in2, in3, in4, in5, x, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, d + x, width, rowCount);
            }

            // The last eight columns, overlapping the previous vector when the width is not a multiple of eight (those
            // columns are computed again, to the same values).
            x = width - V;
            Step<LastVector>(in0, in1, in2, in3, in4, in5, x, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, d + x, width, rowCount);
        }
    }

    /// <summary>
    /// True when the six input rows of a pass start within 64 bytes of each other modulo 4 KB (widths within three
    /// columns of a multiple of 1024), so their lines, and the four output rows' when the output plane is congruent
    /// too, fall into one set of the L1 (64 sets, 8 ways on Zen 4).
    /// </summary>
    public static bool RowsShareCacheSets(int width) => DirectRowShape.RowsNearMultipleOf(width, 1024);

    /// <summary>
    /// As <see cref="RunRows"/>, two output rows per pass from four input rows, for rows that share L1 sets
    /// (<see cref="RowsShareCacheSets"/>): ten rows in one set thrashed it, six fit. 1024 and 2048 columns with input
    /// and output congruent modulo 4 KB: 0.079 → 0.045 and 0.078 → 0.038 ms; not congruent, 0.028 either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RunRowPairs(
        float* plane, int width, int height, int padTop, int rowStart, int rowEnd, float* weights, float bias, float* destination, float* zeroRow)
    {
        var w00 = Vector256.Create(weights[0]);
        var w01 = Vector256.Create(weights[1]);
        var w02 = Vector256.Create(weights[2]);
        var w10 = Vector256.Create(weights[3]);
        var w11 = Vector256.Create(weights[4]);
        var w12 = Vector256.Create(weights[5]);
        var w20 = Vector256.Create(weights[6]);
        var w21 = Vector256.Create(weights[7]);
        var w22 = Vector256.Create(weights[8]);
        var b = Vector256.Create(bias);
        for (int oy = rowStart; oy < rowEnd; oy += 2)
        {
            int iy = oy - padTop;
            float* in0 = InputRow(plane, width, height, iy, zeroRow);
            float* in1 = InputRow(plane, width, height, iy + 1, zeroRow);
            float* in2 = InputRow(plane, width, height, iy + 2, zeroRow);
            float* in3 = InputRow(plane, width, height, iy + 3, zeroRow);
            int rowCount = Math.Min(2, rowEnd - oy);
            float* d = destination + ((long)(oy - rowStart) * width);
            Pair<FirstVector>(in0, in1, in2, in3, 0, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, d, width, rowCount);
            int x = V;
            for (; x + V < width; x += V)
            {
                Pair<Interior>(in0, in1, in2, in3, x, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, d + x, width, rowCount);
            }

            x = width - V;
            Pair<LastVector>(in0, in1, in2, in3, x, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, d + x, width, rowCount);
        }
    }

    /// <summary>Columns x .. x + 7 of two output rows from four input rows, as <see cref="Step{TColumns}"/> does for four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair<TColumns>(
        float* in0, float* in1, float* in2, float* in3, int x,
        Vector256<float> w00, Vector256<float> w01, Vector256<float> w02,
        Vector256<float> w10, Vector256<float> w11, Vector256<float> w12,
        Vector256<float> w20, Vector256<float> w21, Vector256<float> w22,
        Vector256<float> b, float* d, int width, int rowCount)
        where TColumns : struct, INeighbours
    {
        var c = Vector256.Load(in0 + x);
        var l = TColumns.Left(in0, x, c);
        var r = TColumns.Right(in0, x, c);
        var o0 = Fma.MultiplyAdd(l, w00, b);
        o0 = Fma.MultiplyAdd(c, w01, o0);
        o0 = Fma.MultiplyAdd(r, w02, o0);
        c = Vector256.Load(in1 + x);
        l = TColumns.Left(in1, x, c);
        r = TColumns.Right(in1, x, c);
        var o1 = Fma.MultiplyAdd(l, w00, b);
        o0 = Fma.MultiplyAdd(l, w10, o0);
        o1 = Fma.MultiplyAdd(c, w01, o1);
        o0 = Fma.MultiplyAdd(c, w11, o0);
        o1 = Fma.MultiplyAdd(r, w02, o1);
        o0 = Fma.MultiplyAdd(r, w12, o0);
        c = Vector256.Load(in2 + x);
        l = TColumns.Left(in2, x, c);
        r = TColumns.Right(in2, x, c);
        o1 = Fma.MultiplyAdd(l, w10, o1);
        o0 = Fma.MultiplyAdd(l, w20, o0);
        o1 = Fma.MultiplyAdd(c, w11, o1);
        o0 = Fma.MultiplyAdd(c, w21, o0);
        o1 = Fma.MultiplyAdd(r, w12, o1);
        o0 = Fma.MultiplyAdd(r, w22, o0);
        o0.Store(d);
        c = Vector256.Load(in3 + x);
        l = TColumns.Left(in3, x, c);
        r = TColumns.Right(in3, x, c);
        o1 = Fma.MultiplyAdd(l, w20, o1);
        o1 = Fma.MultiplyAdd(c, w21, o1);
        o1 = Fma.MultiplyAdd(r, w22, o1);
        if (rowCount > 1)
        {
            o1.Store(d + width);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* InputRow(float* plane, int width, int height, int iy, float* zeroRow) =>
        (uint)iy < (uint)height ? plane + ((long)iy * width) : zeroRow;

    /// <summary>Rows of at most eight columns: each pass through a zero-padded copy of its six rows, the output through a scratch row.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RunNarrow(
        float* plane, int width, int height, int padTop, int rowStart, int rowEnd, float* weights, float bias, float* destination, float* zeroRow)
    {
        float* result = stackalloc float[Rows * V];
        float* padded = stackalloc float[InputRows * NarrowStride];
        new Span<float>(padded, InputRows * NarrowStride).Clear();
        var w00 = Vector256.Create(weights[0]);
        var w01 = Vector256.Create(weights[1]);
        var w02 = Vector256.Create(weights[2]);
        var w10 = Vector256.Create(weights[3]);
        var w11 = Vector256.Create(weights[4]);
        var w12 = Vector256.Create(weights[5]);
        var w20 = Vector256.Create(weights[6]);
        var w21 = Vector256.Create(weights[7]);
        var w22 = Vector256.Create(weights[8]);
        var b = Vector256.Create(bias);
        for (int oy = rowStart; oy < rowEnd; oy += Rows)
        {
            // Columns 0 .. width - 1 of each row at V; the columns around them stay zero.
            for (int r = 0; r < InputRows; r++)
            {
                new ReadOnlySpan<float>(InputRow(plane, width, height, oy - padTop + r, zeroRow), width).CopyTo(new Span<float>(padded + (r * NarrowStride) + V, width));
            }

            Step<Interior>(
                padded, padded + NarrowStride, padded + (2 * NarrowStride), padded + (3 * NarrowStride), padded + (4 * NarrowStride), padded + (5 * NarrowStride),
                V, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, result, V, Rows);
            int rowCount = Math.Min(Rows, rowEnd - oy);
            for (int j = 0; j < rowCount; j++)
            {
                new ReadOnlySpan<float>(result + (j * V), width).CopyTo(new Span<float>(destination + ((long)(oy - rowStart + j) * width), width));
            }
        }
    }

    /// <summary>
    /// Columns x .. x + 7 of the four output rows from the six input rows, stored at <paramref name="d"/> (rows
    /// <paramref name="width"/> apart, the first <paramref name="rowCount"/>): input row by input row, each one's three
    /// neighbour vectors loaded once and used by every output row that reads it, and each output row stored as soon as
    /// it is complete, so at most three sums, three neighbours and the ten broadcasts are live (sixteen registers,
    /// no spills; keeping all four sums to the end spilled a tap and ran ~5% slower on 64x112x112).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TColumns>(
        float* in0, float* in1, float* in2, float* in3, float* in4, float* in5, int x,
        Vector256<float> w00, Vector256<float> w01, Vector256<float> w02,
        Vector256<float> w10, Vector256<float> w11, Vector256<float> w12,
        Vector256<float> w20, Vector256<float> w21, Vector256<float> w22,
        Vector256<float> b, float* d, int width, int rowCount)
        where TColumns : struct, INeighbours
    {
        Vector256<float> o0, o1, o2, o3;
        // Input row 0 feeds output row 0 only.
        var c = Vector256.Load(in0 + x);
        var l = TColumns.Left(in0, x, c);
        var r = TColumns.Right(in0, x, c);
        o0 = Fma.MultiplyAdd(l, w00, b);
        o0 = Fma.MultiplyAdd(c, w01, o0);
        o0 = Fma.MultiplyAdd(r, w02, o0);

        c = Vector256.Load(in1 + x);
        l = TColumns.Left(in1, x, c);
        r = TColumns.Right(in1, x, c);
        o1 = Fma.MultiplyAdd(l, w00, b);
        o0 = Fma.MultiplyAdd(l, w10, o0);
        o1 = Fma.MultiplyAdd(c, w01, o1);
        o0 = Fma.MultiplyAdd(c, w11, o0);
        o1 = Fma.MultiplyAdd(r, w02, o1);
        o0 = Fma.MultiplyAdd(r, w12, o0);

        c = Vector256.Load(in2 + x);
        l = TColumns.Left(in2, x, c);
        r = TColumns.Right(in2, x, c);
        o2 = Fma.MultiplyAdd(l, w00, b);
        o1 = Fma.MultiplyAdd(l, w10, o1);
        o0 = Fma.MultiplyAdd(l, w20, o0);
        o2 = Fma.MultiplyAdd(c, w01, o2);
        o1 = Fma.MultiplyAdd(c, w11, o1);
        o0 = Fma.MultiplyAdd(c, w21, o0);
        o2 = Fma.MultiplyAdd(r, w02, o2);
        o1 = Fma.MultiplyAdd(r, w12, o1);
        o0 = Fma.MultiplyAdd(r, w22, o0);
        o0.Store(d);

        c = Vector256.Load(in3 + x);
        l = TColumns.Left(in3, x, c);
        r = TColumns.Right(in3, x, c);
        o3 = Fma.MultiplyAdd(l, w00, b);
        o2 = Fma.MultiplyAdd(l, w10, o2);
        o1 = Fma.MultiplyAdd(l, w20, o1);
        o3 = Fma.MultiplyAdd(c, w01, o3);
        o2 = Fma.MultiplyAdd(c, w11, o2);
        o1 = Fma.MultiplyAdd(c, w21, o1);
        o3 = Fma.MultiplyAdd(r, w02, o3);
        o2 = Fma.MultiplyAdd(r, w12, o2);
        o1 = Fma.MultiplyAdd(r, w22, o1);
        if (rowCount > 1)
        {
            o1.Store(d + width);
        }

        c = Vector256.Load(in4 + x);
        l = TColumns.Left(in4, x, c);
        r = TColumns.Right(in4, x, c);
        o3 = Fma.MultiplyAdd(l, w10, o3);
        o2 = Fma.MultiplyAdd(l, w20, o2);
        o3 = Fma.MultiplyAdd(c, w11, o3);
        o2 = Fma.MultiplyAdd(c, w21, o2);
        o3 = Fma.MultiplyAdd(r, w12, o3);
        o2 = Fma.MultiplyAdd(r, w22, o2);
        if (rowCount > 2)
        {
            o2.Store(d + (2 * width));
        }

        // Input row 5 feeds output row 3 only.
        c = Vector256.Load(in5 + x);
        l = TColumns.Left(in5, x, c);
        r = TColumns.Right(in5, x, c);
        o3 = Fma.MultiplyAdd(l, w20, o3);
        o3 = Fma.MultiplyAdd(c, w21, o3);
        o3 = Fma.MultiplyAdd(r, w22, o3);
        if (rowCount > 3)
        {
            o3.Store(d + (3 * width));
        }
    }

    /// <summary>How one vector of columns gets its left (x - 1) and right (x + 1) neighbours, given its centre <c>row[x ..]</c>.</summary>
    private interface INeighbours
    {
        static abstract Vector256<float> Left(float* row, int x, Vector256<float> centre);

        static abstract Vector256<float> Right(float* row, int x, Vector256<float> centre);
    }

    /// <summary>Both neighbours lie in the row: unaligned loads.</summary>
    private readonly struct Interior : INeighbours
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Left(float* row, int x, Vector256<float> centre) => Vector256.Load(row + x - 1);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Right(float* row, int x, Vector256<float> centre) => Vector256.Load(row + x + 1);
    }

    /// <summary>Columns 0 .. 7 of a row of at least nine: the left neighbour of column 0 is padding.</summary>
    private readonly struct FirstVector : INeighbours
    {
        /// <summary><c>[0, centre[0..6]]</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Left(float* row, int x, Vector256<float> centre) =>
            Avx.Blend(Avx2.PermuteVar8x32(centre, Vector256.Create(0, 0, 1, 2, 3, 4, 5, 6)), Vector256<float>.Zero, 0b0000_0001);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Right(float* row, int x, Vector256<float> centre) => Vector256.Load(row + x + 1);
    }

    /// <summary>The last eight columns of a row of at least nine: the right neighbour of the last column is padding.</summary>
    private readonly struct LastVector : INeighbours
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Left(float* row, int x, Vector256<float> centre) => Vector256.Load(row + x - 1);

        /// <summary><c>[centre[1..7], 0]</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Right(float* row, int x, Vector256<float> centre) =>
            Avx.Blend(Avx2.PermuteVar8x32(centre, Vector256.Create(1, 2, 3, 4, 5, 6, 7, 7)), Vector256<float>.Zero, 0b1000_0000);
    }
}
