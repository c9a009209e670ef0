using System.Runtime.CompilerServices;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Kernels;

/// <summary>
/// One output row of a per-channel (depthwise) filter, output width in the vector lanes. Input rows
/// are pre-padded (and split into stride phases), so every tap is a plain vector load at a fixed
/// offset: kernel row <c>ky</c> reads laid-out row <c>rows[ky]</c>, tap <c>kx</c> at <c>taps[kx]</c>.
/// Loads may run past the output width into the row's slack; those lanes are never stored.
/// </summary>
internal static unsafe class DepthwiseRowKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOps, TVec>(
        float** rows, int* taps, int kernelH, int kernelW, float* weights, float bias, float* destination, int width, float* tail)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        int v = TOps.Count;
        TVec biasVector = TOps.Broadcast(bias);
        int x = 0;
        // Four independent chains per block (one chain is bound by FMA latency); a right edge wider
        // than one vector runs as a padded block too, its loads stay in the layout's slack (granule 4 vectors).
        for (; width - x > v; x += 4 * v)
        {
            TVec acc0 = biasVector, acc1 = biasVector, acc2 = biasVector, acc3 = biasVector;
            float* w = weights;
            for (int ky = 0; ky < kernelH; ky++)
            {
                float* row = rows[ky] + x;
                for (int kx = 0; kx < kernelW; kx++)
                {
                    TVec wv = TOps.Broadcast(w[kx]);
                    float* p = row + taps[kx];
                    acc0 = TOps.MultiplyAdd(wv, TOps.Load(p), acc0);
                    acc1 = TOps.MultiplyAdd(wv, TOps.Load(p + v), acc1);
                    acc2 = TOps.MultiplyAdd(wv, TOps.Load(p + (2 * v)), acc2);
                    acc3 = TOps.MultiplyAdd(wv, TOps.Load(p + (3 * v)), acc3);
                }

                w += kernelW;
            }

            if (x + (4 * v) <= width)
            {
                TOps.Store(destination + x, acc0);
                TOps.Store(destination + x + v, acc1);
                TOps.Store(destination + x + (2 * v), acc2);
                TOps.Store(destination + x + (3 * v), acc3);
                continue;
            }

            // The padded last block: whole vectors straight to the row, the partial one through the tail.
            int count = width - x;
            VectorCopy.StorePrefix<TOps, TVec>(acc0, destination + x, count, tail);
            VectorCopy.StorePrefix<TOps, TVec>(acc1, destination + x + v, count - v, tail);
            VectorCopy.StorePrefix<TOps, TVec>(acc2, destination + x + (2 * v), count - (2 * v), tail);
            VectorCopy.StorePrefix<TOps, TVec>(acc3, destination + x + (3 * v), count - (3 * v), tail);
            return;
        }

        for (; x < width; x += v)
        {
            TVec acc = biasVector;
            float* w = weights;
            for (int ky = 0; ky < kernelH; ky++)
            {
                float* row = rows[ky] + x;
                for (int kx = 0; kx < kernelW; kx++)
                {
                    acc = TOps.MultiplyAdd(TOps.Broadcast(w[kx]), TOps.Load(row + taps[kx]), acc);
                }

                w += kernelW;
            }

            VectorCopy.StorePrefix<TOps, TVec>(acc, destination + x, width - x, tail);
        }
    }
}
