using System.Runtime.CompilerServices;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Kernels;

/// <summary>
/// The vertical pass of a separable filter: one row of <c>sum_t weights[t] * rows[t][x]</c> over the
/// taps that fall inside the input (the caller drops padded rows), width in the vector lanes.
/// Reads exactly <paramref name="width"/> floats per row: these are the caller's input rows.
/// </summary>
internal static unsafe class ColumnPassKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOps, TVec>(float** rows, float* weights, int taps, float* destination, int width)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        int v = TOps.Count;
        int x = 0;
        for (; x + (8 * v) <= width; x += 8 * v)
        {
            TVec acc0 = TOps.Zero, acc1 = TOps.Zero, acc2 = TOps.Zero, acc3 = TOps.Zero;
            TVec acc4 = TOps.Zero, acc5 = TOps.Zero, acc6 = TOps.Zero, acc7 = TOps.Zero;
            for (int t = 0; t < taps; t++)
            {
                TVec wv = TOps.Broadcast(weights[t]);
                float* p = rows[t] + x;
                acc0 = TOps.MultiplyAdd(wv, TOps.Load(p), acc0);
                acc1 = TOps.MultiplyAdd(wv, TOps.Load(p + v), acc1);
                acc2 = TOps.MultiplyAdd(wv, TOps.Load(p + (2 * v)), acc2);
                acc3 = TOps.MultiplyAdd(wv, TOps.Load(p + (3 * v)), acc3);
                acc4 = TOps.MultiplyAdd(wv, TOps.Load(p + (4 * v)), acc4);
                acc5 = TOps.MultiplyAdd(wv, TOps.Load(p + (5 * v)), acc5);
                acc6 = TOps.MultiplyAdd(wv, TOps.Load(p + (6 * v)), acc6);
                acc7 = TOps.MultiplyAdd(wv, TOps.Load(p + (7 * v)), acc7);
            }

            TOps.Store(destination + x, acc0);
            TOps.Store(destination + x + v, acc1);
            TOps.Store(destination + x + (2 * v), acc2);
            TOps.Store(destination + x + (3 * v), acc3);
            TOps.Store(destination + x + (4 * v), acc4);
            TOps.Store(destination + x + (5 * v), acc5);
            TOps.Store(destination + x + (6 * v), acc6);
            TOps.Store(destination + x + (7 * v), acc7);
        }

        for (; x + v <= width; x += v)
        {
            TVec acc = TOps.Zero;
            for (int t = 0; t < taps; t++)
            {
                acc = TOps.MultiplyAdd(TOps.Broadcast(weights[t]), TOps.Load(rows[t] + x), acc);
            }

            TOps.Store(destination + x, acc);
        }

        for (; x < width; x++)
        {
            float acc = 0f;
            for (int t = 0; t < taps; t++)
            {
                acc = MathF.FusedMultiplyAdd(weights[t], rows[t][x], acc);
            }

            destination[x] = acc;
        }
    }
}
