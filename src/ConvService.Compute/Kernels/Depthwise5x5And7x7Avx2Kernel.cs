using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// A 5x5 or 7x7 per-channel filter with stride 1, dilation 1 and K/2 columns of zero padding on each side (the
/// geometries of <see cref="Depthwise5x5Avx512Kernel"/> and <see cref="Depthwise7x7Avx512Kernel"/>) with AVX2 and FMA,
/// straight from the input plane, eight output rows at a time, eight columns at a time. With sixteen registers the
/// K x K taps cannot stay in registers: the filter is walked one tap column (shift s = kx - K/2) at a time, its K taps
/// broadcast into registers, and each of the 8 + K - 1 input rows is loaded once at x + s and feeds every output row
/// that reads it (eight accumulators, K taps and one input: at most sixteen registers). Vectors whose loads would
/// leave the row use masked loads (<c>vmaskmovps</c>: masked lanes read as zero; Intel guarantees they do not fault, AMD
/// calls it implementation dependent, and Zen 4 passes the guard-page tests; only the tensor's first and last row
/// ends can touch memory outside the caller's buffer, by less than one vector plus K/2 floats); the last vector
/// overlaps the one before (at <c>width - 8</c>) so every store is a whole vector, except in rows narrower than eight
/// columns, which store through a mask. Rows above or below the image read a zero row.
/// </summary>
/// <remarks>
/// Measured with <c>DOTNET_EnableAVX512=0</c> (16 registers) on Zen 4, 1 thread, against the general ring path: X3
/// (96x28x28 5x5) 0.115 → 0.059 ms, S7 (3x1080x1920 7x7) 14 → 6.8 ms. The hot loop has no vector spills (the bias
/// vector is reloaded once per column vector). 1024-wide planes ran 2.3 ms (5x5) and 3.7 ms (7x7) straight from the
/// plane, slower than the ring path, hence the ring for those widths (0.73 and 1.35 ms); the ring for every width, or
/// the row pointers offset by x once per column vector, were slower.
/// </remarks>
internal static unsafe class Depthwise5x5And7x7Avx2Kernel
{
    /// <summary>Output rows per pass.</summary>
    public const int Rows = 8;

    private const int V = 8;

    /// <summary>Slots of the ring that rows sharing cache sets go through (<see cref="RowsShareCacheSets"/>): at least the 14 rows of a 7x7 pass.</summary>
    public const int RingSlots = 16;

    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// True when consecutive rows of a pass (up to 14 input and 8 output rows) start within 12 bytes of each other modulo
    /// 2 KB (widths within three columns of a multiple of 512), so they fall into one or two sets of the L1 (64 sets,
    /// 8 ways on Zen 4) and evict each other. Such widths read copies of the input rows from a ring whose rows are
    /// <see cref="RingStride"/> apart.
    /// </summary>
    public static bool RowsShareCacheSets(int width) => DirectRowShape.RowsNearMultipleOf(width, 512);

    /// <summary>Floats from one ring row to the next: a 64-byte line more than the row, so consecutive rows start in consecutive sets.</summary>
    public static long RingStride(int width) => (((long)width + 15) & ~15L) + 16;

    /// <summary>Floats of the ring for rows of <paramref name="width"/> columns.</summary>
    public static long RingFloats(int width) => RingSlots * RingStride(width);

    /// <summary>The geometries of the AVX-512 5x5 and 7x7 kernels: same-width output, K/2 columns of padding on each side.</summary>
    public static bool Fits(Conv2dGeometry g) => Depthwise5x5Avx512Kernel.Fits(g) || Depthwise7x7Avx512Kernel.Fits(g);

    /// <summary>
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of one filter over the
    /// <paramref name="width"/> x <paramref name="height"/> <paramref name="plane"/> (output row oy reads input rows
    /// <c>oy - padTop</c> to <c>oy - padTop + K - 1</c>, same width out), row rowStart written at <paramref name="destination"/>;
    /// <paramref name="weights"/>: the K x K taps row-major; <paramref name="zeroRow"/>: at least <paramref name="width"/> zeros;
    /// <paramref name="ring"/>: null, or <see cref="RingFloats"/> floats the input rows are copied through (for widths whose rows share cache sets).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RunRows<TSize>(
        float* plane, int width, int height, int padTop, int rowStart, int rowEnd, float* weights, float bias, float* destination, float* zeroRow, float* ring, bool prefetch)
        where TSize : struct, IFilterSize
    {
        int pad = TSize.K / 2;
        // The group's input rows, then the rows the next group adds (prefetched when the planes stream from memory).
        float** rows = stackalloc float*[Rows + TSize.K - 1 + Rows];
        int copiedEnd = int.MinValue;
        for (int oy = rowStart; oy < rowEnd; oy += Rows)
        {
            for (int r = 0; r < Rows + TSize.K - 1; r++)
            {
                int iy = oy - padTop + r;
                if ((uint)iy >= (uint)height)
                {
                    rows[r] = zeroRow;
                }
                else if (ring == null)
                {
                    rows[r] = plane + ((long)iy * width);
                }
                else
                {
                    // Row iy in ring slot iy mod RingSlots (a group's rows never collide), copied when it first appears.
                    float* slot = ring + ((long)(iy & (RingSlots - 1)) * RingStride(width));
                    if (iy >= copiedEnd)
                    {
                        new ReadOnlySpan<float>(plane + ((long)iy * width), width).CopyTo(new Span<float>(slot, width));
                        copiedEnd = iy + 1;
                    }

                    rows[r] = slot;
                }
            }

            for (int r = Rows + TSize.K - 1; r < Rows + TSize.K - 1 + Rows; r++)
            {
                int iy = oy - padTop + r;
                rows[r] = (uint)iy < (uint)height ? plane + ((long)iy * width) : zeroRow;
            }

            int rowCount = Math.Min(Rows, rowEnd - oy);
            float* d = destination + ((long)(oy - rowStart) * width);
            if (width < V)
            {
                TSize.Columns<Narrow>(rows, weights, bias, d, width, rowCount, 0, 0);
                continue;
            }

            // Vectors at 0, 8, 16, ... and a last one at width - 8; those whose loads at x - pad .. x + 7 + pad stay
            // in the row (x >= pad, x + 8 + pad <= width) run unmasked.
            int last = width - V;
            int interiorEnd = Math.Min(last, width - V - pad); // last unmasked start, inclusive
            TSize.Columns<Masked>(rows, weights, bias, d, width, rowCount, 0, 0);
            int x = V;
            if (x <= interiorEnd)
            {
                if (prefetch)
                {
                    TSize.Columns<PrefetchingInterior>(rows, weights, bias, d, width, rowCount, x, interiorEnd);
                }
                else
                {
                    TSize.Columns<Interior>(rows, weights, bias, d, width, rowCount, x, interiorEnd);
                }
                x += (interiorEnd - x) / V * V + V;
            }

            // At most two vectors near the right edge, the last one overlapping the one before.
            if (x < last)
            {
                TSize.Columns<Masked>(rows, weights, bias, d, width, rowCount, x, x);
            }

            if (last > 0)
            {
                TSize.Columns<Masked>(rows, weights, bias, d, width, rowCount, last, last);
            }
        }
    }

    /// <summary>A filter size: K and the column pass that computes <see cref="Rows"/> output rows of it.</summary>
    internal interface IFilterSize
    {
        static abstract int K { get; }

        /// <summary>
        /// Columns x .. x + 7 of the <see cref="Rows"/> output rows for x = <paramref name="xFirst"/>, xFirst + 8, ..
        /// up to <paramref name="xLast"/>, from the rows in <paramref name="rows"/>; output row j (j &lt; rowCount) at d + j * width.
        /// </summary>
        static abstract void Columns<TLoad>(float** rows, float* weights, float bias, float* d, int width, int rowCount, int xFirst, int xLast)
            where TLoad : struct, IColumnLoad;
    }

    /// <summary>How a vector of eight columns starting at a given column is loaded and stored.</summary>
    internal interface IColumnLoad
    {
        /// <summary>The lanes of the vector starting at column <paramref name="start"/> that lie in the row (all ones), for <see cref="Load"/>.</summary>
        static abstract Vector256<float> Mask(int start, int width);

        static abstract Vector256<float> Load(float* address, Vector256<float> mask);

        static abstract void Store(float* address, Vector256<float> value, int width);

        /// <summary>Before the vector at column <paramref name="x"/>: prefetches from <paramref name="nextRows"/>, the <see cref="Rows"/> rows the next group adds, or nothing.</summary>
        static virtual void Prefetch(float** nextRows, int x)
        {
        }
    }

    /// <summary>Every load lies in the row.</summary>
    private readonly struct Interior : IColumnLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Mask(int start, int width) => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(float* address, Vector256<float> mask) => Vector256.Load(address);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float* address, Vector256<float> value, int width) => value.Store(address);
    }

    /// <summary>As <see cref="Interior"/>, prefetching the next group's rows at the same columns, for planes that stream from memory.</summary>
    private readonly struct PrefetchingInterior : IColumnLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Mask(int start, int width) => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(float* address, Vector256<float> mask) => Vector256.Load(address);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float* address, Vector256<float> value, int width) => value.Store(address);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Prefetch(float** nextRows, int x)
        {
            for (int r = 0; r < Rows; r++)
            {
                Sse.Prefetch0(nextRows[r] + x);
            }
        }
    }

    /// <summary>Loads may reach past either end of the row: the lanes outside it are masked (zero, not read).</summary>
    private readonly struct Masked : IColumnLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Mask(int start, int width)
        {
            var column = Vector256.Create(start) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            return (Vector256.GreaterThan(column, Vector256.Create(-1)) & Vector256.LessThan(column, Vector256.Create(width))).AsSingle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(float* address, Vector256<float> mask) => Avx.MaskLoad(address, mask);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float* address, Vector256<float> value, int width) => value.Store(address);
    }

    /// <summary>A row narrower than a vector: masked loads and masked stores of its columns.</summary>
    private readonly struct Narrow : IColumnLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Mask(int start, int width) => Masked.Mask(start, width);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(float* address, Vector256<float> mask) => Avx.MaskLoad(address, mask);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float* address, Vector256<float> value, int width) => Avx.MaskStore(address, Masked.Mask(0, width), value);
    }

    /// <summary>The first <paramref name="rowCount"/> of a pass's eight output rows at <paramref name="d"/>, rows <paramref name="width"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows<TLoad>(
        float* d, int width, int rowCount,
        Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
        Vector256<float> a4, Vector256<float> a5, Vector256<float> a6, Vector256<float> a7)
        where TLoad : struct, IColumnLoad
    {
        TLoad.Store(d, a0, width);
        if (rowCount > 1)
        {
            TLoad.Store(d + width, a1, width);
        }

        if (rowCount > 2)
        {
            TLoad.Store(d + (2 * (long)width), a2, width);
        }

        if (rowCount > 3)
        {
            TLoad.Store(d + (3 * (long)width), a3, width);
        }

        if (rowCount > 4)
        {
            TLoad.Store(d + (4 * (long)width), a4, width);
        }

        if (rowCount > 5)
        {
            TLoad.Store(d + (5 * (long)width), a5, width);
        }

        if (rowCount > 6)
        {
            TLoad.Store(d + (6 * (long)width), a6, width);
        }

        if (rowCount > 7)
        {
            TLoad.Store(d + (7 * (long)width), a7, width);
        }
    }

    /// <summary>The 5x5 filter: twelve input rows feed the eight output rows.</summary>
    internal readonly struct Size5 : IFilterSize
    {
        public static int K => 5;

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public static void Columns<TLoad>(float** rows, float* weights, float bias, float* d, int width, int rowCount, int xFirst, int xLast)
            where TLoad : struct, IColumnLoad
        {
            for (int x = xFirst; x <= xLast; x += V)
            {
                TLoad.Prefetch(rows + Rows + K - 1, x);
                var a0 = Vector256.Create(bias);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                var a4 = a0;
                var a5 = a0;
                var a6 = a0;
                var a7 = a0;
                float* w = weights;
                for (int s = -2; s <= 2; s++, w++)
                {
                    var mask = TLoad.Mask(x + s, width);
                    nint offset = (nint)(x + s) * sizeof(float);
                    var w0 = Vector256.Create(w[0]);
                    var w1 = Vector256.Create(w[5]);
                    var w2 = Vector256.Create(w[10]);
                    var w3 = Vector256.Create(w[15]);
                    var w4 = Vector256.Create(w[20]);
                    var v = TLoad.Load((float*)((byte*)rows[0] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w0, a0);
                    v = TLoad.Load((float*)((byte*)rows[1] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w1, a0);
                    a1 = Fma.MultiplyAdd(v, w0, a1);
                    v = TLoad.Load((float*)((byte*)rows[2] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w2, a0);
                    a1 = Fma.MultiplyAdd(v, w1, a1);
                    a2 = Fma.MultiplyAdd(v, w0, a2);
                    v = TLoad.Load((float*)((byte*)rows[3] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w3, a0);
                    a1 = Fma.MultiplyAdd(v, w2, a1);
                    a2 = Fma.MultiplyAdd(v, w1, a2);
                    a3 = Fma.MultiplyAdd(v, w0, a3);
                    v = TLoad.Load((float*)((byte*)rows[4] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w4, a0);
                    a1 = Fma.MultiplyAdd(v, w3, a1);
                    a2 = Fma.MultiplyAdd(v, w2, a2);
                    a3 = Fma.MultiplyAdd(v, w1, a3);
                    a4 = Fma.MultiplyAdd(v, w0, a4);
                    v = TLoad.Load((float*)((byte*)rows[5] + offset), mask);
                    a1 = Fma.MultiplyAdd(v, w4, a1);
                    a2 = Fma.MultiplyAdd(v, w3, a2);
                    a3 = Fma.MultiplyAdd(v, w2, a3);
                    a4 = Fma.MultiplyAdd(v, w1, a4);
                    a5 = Fma.MultiplyAdd(v, w0, a5);
                    v = TLoad.Load((float*)((byte*)rows[6] + offset), mask);
                    a2 = Fma.MultiplyAdd(v, w4, a2);
                    a3 = Fma.MultiplyAdd(v, w3, a3);
                    a4 = Fma.MultiplyAdd(v, w2, a4);
                    a5 = Fma.MultiplyAdd(v, w1, a5);
                    a6 = Fma.MultiplyAdd(v, w0, a6);
                    v = TLoad.Load((float*)((byte*)rows[7] + offset), mask);
                    a3 = Fma.MultiplyAdd(v, w4, a3);
                    a4 = Fma.MultiplyAdd(v, w3, a4);
                    a5 = Fma.MultiplyAdd(v, w2, a5);
                    a6 = Fma.MultiplyAdd(v, w1, a6);
                    a7 = Fma.MultiplyAdd(v, w0, a7);
                    v = TLoad.Load((float*)((byte*)rows[8] + offset), mask);
                    a4 = Fma.MultiplyAdd(v, w4, a4);
                    a5 = Fma.MultiplyAdd(v, w3, a5);
                    a6 = Fma.MultiplyAdd(v, w2, a6);
                    a7 = Fma.MultiplyAdd(v, w1, a7);
                    v = TLoad.Load((float*)((byte*)rows[9] + offset), mask);
                    a5 = Fma.MultiplyAdd(v, w4, a5);
                    a6 = Fma.MultiplyAdd(v, w3, a6);
                    a7 = Fma.MultiplyAdd(v, w2, a7);
                    v = TLoad.Load((float*)((byte*)rows[10] + offset), mask);
                    a6 = Fma.MultiplyAdd(v, w4, a6);
                    a7 = Fma.MultiplyAdd(v, w3, a7);
                    v = TLoad.Load((float*)((byte*)rows[11] + offset), mask);
                    a7 = Fma.MultiplyAdd(v, w4, a7);
                }

                StoreRows<TLoad>(d + x, width, rowCount, a0, a1, a2, a3, a4, a5, a6, a7);
            }
        }
    }

    /// <summary>The 7x7 filter: fourteen input rows feed the eight output rows.</summary>
    internal readonly struct Size7 : IFilterSize
    {
        public static int K => 7;

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public static void Columns<TLoad>(float** rows, float* weights, float bias, float* d, int width, int rowCount, int xFirst, int xLast)
            where TLoad : struct, IColumnLoad
        {
            for (int x = xFirst; x <= xLast; x += V)
            {
                TLoad.Prefetch(rows + Rows + K - 1, x);
                var a0 = Vector256.Create(bias);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                var a4 = a0;
                var a5 = a0;
                var a6 = a0;
                var a7 = a0;
                float* w = weights;
                for (int s = -3; s <= 3; s++, w++)
                {
                    var mask = TLoad.Mask(x + s, width);
                    nint offset = (nint)(x + s) * sizeof(float);
                    var w0 = Vector256.Create(w[0]);
                    var w1 = Vector256.Create(w[7]);
                    var w2 = Vector256.Create(w[14]);
                    var w3 = Vector256.Create(w[21]);
                    var w4 = Vector256.Create(w[28]);
                    var w5 = Vector256.Create(w[35]);
                    var w6 = Vector256.Create(w[42]);
                    var v = TLoad.Load((float*)((byte*)rows[0] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w0, a0);
                    v = TLoad.Load((float*)((byte*)rows[1] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w1, a0);
                    a1 = Fma.MultiplyAdd(v, w0, a1);
                    v = TLoad.Load((float*)((byte*)rows[2] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w2, a0);
                    a1 = Fma.MultiplyAdd(v, w1, a1);
                    a2 = Fma.MultiplyAdd(v, w0, a2);
                    v = TLoad.Load((float*)((byte*)rows[3] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w3, a0);
                    a1 = Fma.MultiplyAdd(v, w2, a1);
                    a2 = Fma.MultiplyAdd(v, w1, a2);
                    a3 = Fma.MultiplyAdd(v, w0, a3);
                    v = TLoad.Load((float*)((byte*)rows[4] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w4, a0);
                    a1 = Fma.MultiplyAdd(v, w3, a1);
                    a2 = Fma.MultiplyAdd(v, w2, a2);
                    a3 = Fma.MultiplyAdd(v, w1, a3);
                    a4 = Fma.MultiplyAdd(v, w0, a4);
                    v = TLoad.Load((float*)((byte*)rows[5] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w5, a0);
                    a1 = Fma.MultiplyAdd(v, w4, a1);
                    a2 = Fma.MultiplyAdd(v, w3, a2);
                    a3 = Fma.MultiplyAdd(v, w2, a3);
                    a4 = Fma.MultiplyAdd(v, w1, a4);
                    a5 = Fma.MultiplyAdd(v, w0, a5);
                    v = TLoad.Load((float*)((byte*)rows[6] + offset), mask);
                    a0 = Fma.MultiplyAdd(v, w6, a0);
                    a1 = Fma.MultiplyAdd(v, w5, a1);
                    a2 = Fma.MultiplyAdd(v, w4, a2);
                    a3 = Fma.MultiplyAdd(v, w3, a3);
                    a4 = Fma.MultiplyAdd(v, w2, a4);
                    a5 = Fma.MultiplyAdd(v, w1, a5);
                    a6 = Fma.MultiplyAdd(v, w0, a6);
                    v = TLoad.Load((float*)((byte*)rows[7] + offset), mask);
                    a1 = Fma.MultiplyAdd(v, w6, a1);
                    a2 = Fma.MultiplyAdd(v, w5, a2);
                    a3 = Fma.MultiplyAdd(v, w4, a3);
                    a4 = Fma.MultiplyAdd(v, w3, a4);
                    a5 = Fma.MultiplyAdd(v, w2, a5);
                    a6 = Fma.MultiplyAdd(v, w1, a6);
                    a7 = Fma.MultiplyAdd(v, w0, a7);
                    v = TLoad.Load((float*)((byte*)rows[8] + offset), mask);
                    a2 = Fma.MultiplyAdd(v, w6, a2);
                    a3 = Fma.MultiplyAdd(v, w5, a3);
                    a4 = Fma.MultiplyAdd(v, w4, a4);
                    a5 = Fma.MultiplyAdd(v, w3, a5);
                    a6 = Fma.MultiplyAdd(v, w2, a6);
                    a7 = Fma.MultiplyAdd(v, w1, a7);
                    v = TLoad.Load((float*)((byte*)rows[9] + offset), mask);
                    a3 = Fma.MultiplyAdd(v, w6, a3);
                    a4 = Fma.MultiplyAdd(v, w5, a4);
                    a5 = Fma.MultiplyAdd(v, w4, a5);
                    a6 = Fma.MultiplyAdd(v, w3, a6);
                    a7 = Fma.MultiplyAdd(v, w2, a7);
                    v = TLoad.Load((float*)((byte*)rows[10] + offset), mask);
                    a4 = Fma.MultiplyAdd(v, w6, a4);
                    a5 = Fma.MultiplyAdd(v, w5, a5);
                    a6 = Fma.MultiplyAdd(v, w4, a6);
                    a7 = Fma.MultiplyAdd(v, w3, a7);
                    v = TLoad.Load((float*)((byte*)rows[11] + offset), mask);
                    a5 = Fma.MultiplyAdd(v, w6, a5);
                    a6 = Fma.MultiplyAdd(v, w5, a6);
                    a7 = Fma.MultiplyAdd(v, w4, a7);
                    v = TLoad.Load((float*)((byte*)rows[12] + offset), mask);
                    a6 = Fma.MultiplyAdd(v, w6, a6);
                    a7 = Fma.MultiplyAdd(v, w5, a7);
                    v = TLoad.Load((float*)((byte*)rows[13] + offset), mask);
                    a7 = Fma.MultiplyAdd(v, w6, a7);
                }

                StoreRows<TLoad>(d + x, width, rowCount, a0, a1, a2, a3, a4, a5, a6, a7);
            }
        }
    }
}
