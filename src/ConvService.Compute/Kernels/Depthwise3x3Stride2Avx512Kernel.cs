using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// Two output rows of a 3x3 per-channel filter with stride 2 and dilation 1, any left padding (it runs the
/// paddings of two columns and more; no or one column goes to <see cref="Depthwise3x3Stride2EvenOddAvx512Kernel"/>),
/// straight from the input rows (see <see cref="RowLoads"/>): for 16 outputs the
/// three taps of a row are the even and odd elements of the 32 input columns from the first tap on,
/// and the even elements of the 32 from two columns further, split out with two-source permutes
/// (<c>vpermt2ps</c>). The two output rows share their middle input row; two vectors per row give
/// four accumulator chains. Loads at the borders are masked (zeros outside the row), so no padded
/// copy of the input is made; rows above or below the image point at a zero row.
/// </summary>
internal readonly unsafe struct Depthwise3x3Stride2Avx512Kernel : IDirectDepthwiseKernel
{
    public const int Rows = 2;

    /// <summary>Input rows one call reads: output row j reads input rows 2j .. 2j + 2.</summary>
    public const int InputRows = (2 * Rows) + 1;

    private const int V = 16;

    public static int Size => 3;

    static int IDirectDepthwiseKernel.Rows => Rows;

    static int IDirectDepthwiseKernel.InputRows => InputRows;

    /// <summary>The nine taps as they come (row-major): this kernel keeps them in registers.</summary>
    public static int PackedTaps => 9;

    public static int Stride => 2;

    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>Any padding: the borders are masked loads.</summary>
    public static bool Fits(Conv2dGeometry g) =>
        g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 2 && g.StrideW == 2 && g.DilationH == 1 && g.DilationW == 1;

    public static void PackWeights(ReadOnlySpan<float> taps, Span<float> packed) => taps[..9].CopyTo(packed);

    /// <summary>
    /// <paramref name="rows"/>: the five input rows (zero rows, at least <c>shape.InWidth</c> long, outside
    /// the image) of output rows 0 and 1; output row j goes to <c>destination + j * shape.OutWidth</c> for j &lt;
    /// <paramref name="rowCount"/>. Output column x reads input columns <c>2x - shape.PadLeft .. 2x - shape.PadLeft + 2</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Run(float** rows, float* weights, float bias, float* destination, DirectRowShape shape, int rowCount)
    {
        int inWidth = shape.InWidth, outWidth = shape.OutWidth, padLeft = shape.PadLeft;
        var b = Vector512.Create(bias);
        var evens = Vector512<int>.Indices + Vector512<int>.Indices;
        for (int x = 0; x < outWidth; x += 2 * V)
        {
            // Input columns first .. first + 2 * 32 + 1 are read; interior blocks need no masks.
            int first = (2 * x) - padLeft;
            if (first >= 0 && first + (4 * V) + 2 <= inWidth)
            {
                TwoVectors<RowLoads.Whole>(rows, weights, b, evens, destination, inWidth, outWidth, rowCount, x, first);
            }
            else
            {
                TwoVectors<RowLoads.Clipped>(rows, weights, b, evens, destination, inWidth, outWidth, rowCount, x, first);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwoVectors<TLoad>(
        float** rows, float* w, Vector512<float> b, Vector512<int> evens, float* destination, int inWidth, int outWidth, int rowCount, int x, int first)
        where TLoad : struct, RowLoads.IRowLoad
    {
        var odds = evens + Vector512<int>.One;
        Vector512<float> a00 = b, a01 = b, a10 = b, a11 = b;
        for (int r = 0; r < InputRows; r++)
        {
            float* row = rows[r];

            // Taps of output vector 0 (columns first + 2i + kx) and vector 1 (32 columns further).
            var p0 = TLoad.Load(row, first, inWidth);
            var p1 = TLoad.Load(row, first + V, inWidth);
            var p2 = TLoad.Load(row, first + (2 * V), inWidth);
            var p3 = TLoad.Load(row, first + (3 * V), inWidth);
            var q0 = TLoad.Load(row, first + 2, inWidth);
            var q1 = TLoad.Load(row, first + V + 2, inWidth);
            var q2 = TLoad.Load(row, first + (2 * V) + 2, inWidth);
            var q3 = TLoad.Load(row, first + (3 * V) + 2, inWidth);
            var l0 = Avx512F.PermuteVar16x32x2(p0, evens, p1);
            var c0 = Avx512F.PermuteVar16x32x2(p0, odds, p1);
            var r0 = Avx512F.PermuteVar16x32x2(q0, evens, q1);
            var l1 = Avx512F.PermuteVar16x32x2(p2, evens, p3);
            var c1 = Avx512F.PermuteVar16x32x2(p2, odds, p3);
            var r1 = Avx512F.PermuteVar16x32x2(q2, evens, q3);

            // Input row r is kernel row r of output row 0 and kernel row r - 2 of output row 1.
            if (r < 3)
            {
                float* k = w + (3 * r);
                Tap(ref a00, ref a01, l0, c0, r0, l1, c1, r1, k);
            }

            if (r >= 2)
            {
                float* k = w + (3 * (r - 2));
                Tap(ref a10, ref a11, l0, c0, r0, l1, c1, r1, k);
            }
        }

        float* d = destination + x;
        Store(d, a00, a01, x, outWidth);
        if (rowCount > 1)
        {
            Store(d + outWidth, a10, a11, x, outWidth);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap(
        ref Vector512<float> acc0, ref Vector512<float> acc1,
        Vector512<float> l0, Vector512<float> c0, Vector512<float> r0,
        Vector512<float> l1, Vector512<float> c1, Vector512<float> r1, float* k)
    {
        var wl = Vector512.Create(k[0]);
        var wc = Vector512.Create(k[1]);
        var wr = Vector512.Create(k[2]);
        acc0 = Avx512F.FusedMultiplyAdd(wl, l0, acc0);
        acc1 = Avx512F.FusedMultiplyAdd(wl, l1, acc1);
        acc0 = Avx512F.FusedMultiplyAdd(wc, c0, acc0);
        acc1 = Avx512F.FusedMultiplyAdd(wc, c1, acc1);
        acc0 = Avx512F.FusedMultiplyAdd(wr, r0, acc0);
        acc1 = Avx512F.FusedMultiplyAdd(wr, r1, acc1);
    }

    /// <summary>Output columns x .. x + 31, the lanes at or past <paramref name="outWidth"/> left unwritten.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* d, Vector512<float> first, Vector512<float> second, int x, int outWidth)
    {
        if (x + (2 * V) <= outWidth)
        {
            first.Store(d);
            second.Store(d + V);
            return;
        }

        Avx512F.MaskStore(d, RowLoads.ColumnMask(x, outWidth), first);
        if (x + V < outWidth)
        {
            Avx512F.MaskStore(d + V, RowLoads.ColumnMask(x + V, outWidth), second);
        }
    }
}
