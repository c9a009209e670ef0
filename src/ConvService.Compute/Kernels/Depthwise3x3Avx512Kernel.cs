using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// Four output rows of a 3x3 per-channel filter with stride 1, dilation 1 and one column of zero
/// padding on each side, computed straight from the input rows (no copy into a padded ring): each
/// input row is read once per group as aligned whole vectors, its left and right neighbours are
/// formed in registers with <c>valignd</c>, and the border columns come from masked loads, which
/// read zeros outside the row. The nine weights stay in registers; eight accumulator chains (four
/// rows by two vectors) keep the FMA pipes busy. Rows above or below the image point at a zero row.
/// </summary>
internal readonly unsafe struct Depthwise3x3Avx512Kernel : IDirectDepthwiseKernel
{
    public const int Rows = 4;

    /// <summary>Input rows one group reads.</summary>
    public const int InputRows = Rows + 2;

    private const int V = 16;

    public static int Size => 3;

    static int IDirectDepthwiseKernel.Rows => Rows;

    static int IDirectDepthwiseKernel.InputRows => InputRows;

    /// <summary>The nine taps as they come (row-major): this kernel keeps them in registers.</summary>
    public static int PackedTaps => 9;

    public static int Stride => 1;

    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>Same-width outputs: one column of padding on each side (rows above and below may differ).</summary>
    public static bool Fits(Conv2dGeometry g) =>
        g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.PadLeft == 1 && g.PadRight == 1;

    public static void PackWeights(ReadOnlySpan<float> taps, Span<float> packed) => taps[..9].CopyTo(packed);

    /// <summary>
    /// <paramref name="rows"/>: the six input rows (zero rows outside the image) of output rows
    /// <c>0 .. 3</c>; output row j goes to <c>destination + j * shape.OutWidth</c> for j &lt; <paramref name="rowCount"/>
    /// (same width as the input).
    /// </summary>
    /// <remarks>
    /// Never inlined: inlined into its caller at tier 1, the JIT ran out of inlining budget, called
    /// <see cref="ColumnMask"/> and spilled the eight accumulators around the call (to 16-byte aligned
    /// stack slots, whose 64-byte reloads are slow when they split cache lines).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Run(float** rows, float* weights, float bias, float* destination, DirectRowShape shape, int rowCount)
    {
        int width = shape.OutWidth;
        var b = Vector512.Create(bias);
        int x = 0;
        // Pairs while more than one vector of width remains (the second may be partial); a last
        // single full or partial vector alone.
        for (; x + V < width; x += 2 * V)
        {
            // Interior pairs read whole vectors only; the first and last read through masks.
            if (x >= V && x + (3 * V) <= width)
            {
                TwoVectors<WholeLoads>(rows, weights, b, destination, width, rowCount, x);
            }
            else
            {
                TwoVectors<ClippedLoads>(rows, weights, b, destination, width, rowCount, x);
            }
        }

        for (; x < width; x += V)
        {
            OneVector(rows, weights, b, destination, width, rowCount, x);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwoVectors<TLoad>(float** rows, float* weights, Vector512<float> b, float* destination, int width, int rowCount, int x)
        where TLoad : struct, IRowLoad
    {
        // The nine taps as locals (a struct of them is not enregistered and costs a copy per use).
        var w00 = Vector512.Create(weights[0]);
        var w01 = Vector512.Create(weights[1]);
        var w02 = Vector512.Create(weights[2]);
        var w10 = Vector512.Create(weights[3]);
        var w11 = Vector512.Create(weights[4]);
        var w12 = Vector512.Create(weights[5]);
        var w20 = Vector512.Create(weights[6]);
        var w21 = Vector512.Create(weights[7]);
        var w22 = Vector512.Create(weights[8]);
        Vector512<float> a00 = b, a01 = b, a10 = b, a11 = b, a20 = b, a21 = b, a30 = b, a31 = b;

        // Input row r is kernel row r - j of output row j.
        Neighbours2<TLoad>(rows[0], x, width, out var l0, out var c0, out var r0, out var l1, out var c1, out var r1);
        Tap(ref a00, ref a01, l0, c0, r0, l1, c1, r1, w00, w01, w02);

        Neighbours2<TLoad>(rows[1], x, width, out l0, out c0, out r0, out l1, out c1, out r1);
        Tap(ref a00, ref a01, l0, c0, r0, l1, c1, r1, w10, w11, w12);
        Tap(ref a10, ref a11, l0, c0, r0, l1, c1, r1, w00, w01, w02);

        Neighbours2<TLoad>(rows[2], x, width, out l0, out c0, out r0, out l1, out c1, out r1);
        Tap(ref a00, ref a01, l0, c0, r0, l1, c1, r1, w20, w21, w22);
        Tap(ref a10, ref a11, l0, c0, r0, l1, c1, r1, w10, w11, w12);
        Tap(ref a20, ref a21, l0, c0, r0, l1, c1, r1, w00, w01, w02);

        Neighbours2<TLoad>(rows[3], x, width, out l0, out c0, out r0, out l1, out c1, out r1);
        Tap(ref a10, ref a11, l0, c0, r0, l1, c1, r1, w20, w21, w22);
        Tap(ref a20, ref a21, l0, c0, r0, l1, c1, r1, w10, w11, w12);
        Tap(ref a30, ref a31, l0, c0, r0, l1, c1, r1, w00, w01, w02);

        Neighbours2<TLoad>(rows[4], x, width, out l0, out c0, out r0, out l1, out c1, out r1);
        Tap(ref a20, ref a21, l0, c0, r0, l1, c1, r1, w20, w21, w22);
        Tap(ref a30, ref a31, l0, c0, r0, l1, c1, r1, w10, w11, w12);

        Neighbours2<TLoad>(rows[5], x, width, out l0, out c0, out r0, out l1, out c1, out r1);
        Tap(ref a30, ref a31, l0, c0, r0, l1, c1, r1, w20, w21, w22);

        float* d = destination + x;
        if (typeof(TLoad) == typeof(ClippedLoads) && x + (2 * V) > width)
        {
            // The second vector runs past the row: write its valid lanes only.
            var mask = ColumnMask(x + V, width);
            a00.Store(d);
            Avx512F.MaskStore(d + V, mask, a01);
            if (rowCount > 1)
            {
                a10.Store(d + width);
                Avx512F.MaskStore(d + width + V, mask, a11);
            }

            if (rowCount > 2)
            {
                a20.Store(d + (2 * width));
                Avx512F.MaskStore(d + (2 * width) + V, mask, a21);
            }

            if (rowCount > 3)
            {
                a30.Store(d + (3 * width));
                Avx512F.MaskStore(d + (3 * width) + V, mask, a31);
            }

            return;
        }

        a00.Store(d);
        a01.Store(d + V);
        if (rowCount > 1)
        {
            a10.Store(d + width);
            a11.Store(d + width + V);
        }

        if (rowCount > 2)
        {
            a20.Store(d + (2 * width));
            a21.Store(d + (2 * width) + V);
        }

        if (rowCount > 3)
        {
            a30.Store(d + (3 * width));
            a31.Store(d + (3 * width) + V);
        }
    }

    /// <summary>A last single vector of a row (full or partial): always through masks.</summary>
    /// <remarks>Optimised from the first call: left to tiering it runs unoptimised (every vector spilled) until promoted.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneVector(float** rows, float* weights, Vector512<float> b, float* destination, int width, int rowCount, int x)
    {
        // The nine taps as locals (a struct of them is not enregistered and costs a copy per use).
        var w00 = Vector512.Create(weights[0]);
        var w01 = Vector512.Create(weights[1]);
        var w02 = Vector512.Create(weights[2]);
        var w10 = Vector512.Create(weights[3]);
        var w11 = Vector512.Create(weights[4]);
        var w12 = Vector512.Create(weights[5]);
        var w20 = Vector512.Create(weights[6]);
        var w21 = Vector512.Create(weights[7]);
        var w22 = Vector512.Create(weights[8]);
        Vector512<float> a0 = b, a1 = b, a2 = b, a3 = b;
        Neighbours1(rows[0], x, width, out var l, out var c, out var r);
        Tap(ref a0, l, c, r, w00, w01, w02);
        Neighbours1(rows[1], x, width, out l, out c, out r);
        Tap(ref a0, l, c, r, w10, w11, w12);
        Tap(ref a1, l, c, r, w00, w01, w02);
        Neighbours1(rows[2], x, width, out l, out c, out r);
        Tap(ref a0, l, c, r, w20, w21, w22);
        Tap(ref a1, l, c, r, w10, w11, w12);
        Tap(ref a2, l, c, r, w00, w01, w02);
        Neighbours1(rows[3], x, width, out l, out c, out r);
        Tap(ref a1, l, c, r, w20, w21, w22);
        Tap(ref a2, l, c, r, w10, w11, w12);
        Tap(ref a3, l, c, r, w00, w01, w02);
        Neighbours1(rows[4], x, width, out l, out c, out r);
        Tap(ref a2, l, c, r, w20, w21, w22);
        Tap(ref a3, l, c, r, w10, w11, w12);
        Neighbours1(rows[5], x, width, out l, out c, out r);
        Tap(ref a3, l, c, r, w20, w21, w22);

        var mask = ColumnMask(x, width);
        float* d = destination + x;
        Avx512F.MaskStore(d, mask, a0);
        if (rowCount > 1)
        {
            Avx512F.MaskStore(d + width, mask, a1);
        }

        if (rowCount > 2)
        {
            Avx512F.MaskStore(d + (2 * width), mask, a2);
        }

        if (rowCount > 3)
        {
            Avx512F.MaskStore(d + (3 * width), mask, a3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Neighbours2<TLoad>(
        float* row, int x, int width,
        out Vector512<float> left0, out Vector512<float> centre0, out Vector512<float> right0,
        out Vector512<float> left1, out Vector512<float> centre1, out Vector512<float> right1)
        where TLoad : struct, IRowLoad
    {
        var before = TLoad.Load(row, x - V, width).AsUInt32();
        var first = TLoad.Load(row, x, width).AsUInt32();
        var second = TLoad.Load(row, x + V, width).AsUInt32();
        var after = TLoad.Load(row, x + (2 * V), width).AsUInt32();

        // valignd: lanes [prev[15], cur[0..14]] and [cur[1..15], next[0]].
        left0 = Avx512F.AlignRight32(first, before, 15).AsSingle();
        centre0 = first.AsSingle();
        right0 = Avx512F.AlignRight32(second, first, 1).AsSingle();
        left1 = Avx512F.AlignRight32(second, first, 15).AsSingle();
        centre1 = second.AsSingle();
        right1 = Avx512F.AlignRight32(after, second, 1).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Neighbours1(float* row, int x, int width, out Vector512<float> left, out Vector512<float> centre, out Vector512<float> right)
    {
        var before = ClippedLoads.Load(row, x - V, width).AsUInt32();
        var current = ClippedLoads.Load(row, x, width).AsUInt32();
        var after = ClippedLoads.Load(row, x + V, width).AsUInt32();
        left = Avx512F.AlignRight32(current, before, 15).AsSingle();
        centre = current.AsSingle();
        right = Avx512F.AlignRight32(after, current, 1).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap(
        ref Vector512<float> acc0, ref Vector512<float> acc1,
        Vector512<float> l0, Vector512<float> c0, Vector512<float> r0,
        Vector512<float> l1, Vector512<float> c1, Vector512<float> r1,
        Vector512<float> wl, Vector512<float> wc, Vector512<float> wr)
    {
        acc0 = Avx512F.FusedMultiplyAdd(wl, l0, acc0);
        acc1 = Avx512F.FusedMultiplyAdd(wl, l1, acc1);
        acc0 = Avx512F.FusedMultiplyAdd(wc, c0, acc0);
        acc1 = Avx512F.FusedMultiplyAdd(wc, c1, acc1);
        acc0 = Avx512F.FusedMultiplyAdd(wr, r0, acc0);
        acc1 = Avx512F.FusedMultiplyAdd(wr, r1, acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap(ref Vector512<float> acc, Vector512<float> l, Vector512<float> c, Vector512<float> r, Vector512<float> wl, Vector512<float> wc, Vector512<float> wr)
    {
        acc = Avx512F.FusedMultiplyAdd(wl, l, acc);
        acc = Avx512F.FusedMultiplyAdd(wc, c, acc);
        acc = Avx512F.FusedMultiplyAdd(wr, r, acc);
    }

    /// <summary>All ones in the lanes whose column <c>x + lane</c> lies in [0, width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ColumnMask(int x, int width)
    {
        var columns = Vector512<int>.Indices + Vector512.Create(x);
        return (Vector512.GreaterThanOrEqual(columns, Vector512<int>.Zero) & Vector512.LessThan(columns, Vector512.Create(width))).AsSingle();
    }

    internal interface IRowLoad
    {
        static abstract Vector512<float> Load(float* row, int x, int width);
    }

    /// <summary>Sixteen columns known to lie inside the row.</summary>
    internal readonly struct WholeLoads : IRowLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(float* row, int x, int width) => Vector512.Load(row + x);
    }

    /// <summary>Sixteen columns of which those outside [0, width) read as zero (masked lanes never touch memory).</summary>
    internal readonly struct ClippedLoads : IRowLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(float* row, int x, int width)
        {
            if (x >= 0 && x + V <= width)
            {
                return Vector512.Load(row + x);
            }

            if (x + V <= 0 || x >= width)
            {
                return Vector512<float>.Zero;
            }

            return Avx512F.MaskLoad(row + x, ColumnMask(x, width), Vector512<float>.Zero);
        }
    }
}
