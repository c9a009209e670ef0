using System.Runtime.CompilerServices;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Kernels;

/// <summary>
/// Four adjacent output rows of a per-channel filter with vertical stride and dilation 1, four
/// vectors wide: the rows share Kh - 1 of their input rows, so each loaded input vector feeds up
/// to four FMAs and each broadcast weight four more; sixteen independent accumulator chains keep
/// the FMA pipes busy. One output row at a time is bound by the load ports instead (most of its
/// loads split cache lines). Rows are laid out by <see cref="StridedRowLayout"/>; <c>rows[r]</c>
/// is input row r of the group (0 .. Kh + 2).
/// </summary>
internal static unsafe class DepthwiseFourRowKernel
{
    public const int Rows = 4;

    /// <summary>Vectors of output width per step.</summary>
    public const int Vectors = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOps, TVec>(
        float** rows, int* taps, int kernelH, int kernelW, float* weights, float bias, float** outputs, int width, float* tail)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        int v = TOps.Count;
        TVec biasVector = TOps.Broadcast(bias);
        int x = 0;

        // Each width case is its own method and partial vectors are stored without calls: in one method whose tail
        // path called memmove, the JIT kept the accumulators on the stack and stored them after every FMA, which
        // ran 3x slower whenever the stack slots were not 64-byte aligned.
        for (; x + (Vectors * v) <= width || width - x > 2 * v; x += Vectors * v)
        {
            FourVectors<TOps, TVec>(rows, taps, kernelH, kernelW, weights, biasVector, outputs, width, tail, x);
        }

        if (width - x > v)
        {
            TwoVectors<TOps, TVec>(rows, taps, kernelH, kernelW, weights, biasVector, outputs, width, tail, x);
        }
        else if (x < width)
        {
            OneVector<TOps, TVec>(rows, taps, kernelH, kernelW, weights, biasVector, outputs, width, tail, x);
        }
    }

    /// <summary>One block of four vectors of width (a right edge wider than two vectors is cheaper as one padded block too).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void FourVectors<TOps, TVec>(float** rows, int* taps, int kernelH, int kernelW, float* weights, TVec biasVector, float** outputs, int width, float* tail, int x)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        int v = TOps.Count;
        TVec a00 = biasVector, a01 = biasVector, a02 = biasVector, a03 = biasVector;
        TVec a10 = biasVector, a11 = biasVector, a12 = biasVector, a13 = biasVector;
        TVec a20 = biasVector, a21 = biasVector, a22 = biasVector, a23 = biasVector;
        TVec a30 = biasVector, a31 = biasVector, a32 = biasVector, a33 = biasVector;
        for (int r = 0; r < kernelH + Rows - 1; r++)
        {
            float* row = rows[r] + x;

            // Input row r is kernel row r - j of output row j.
            float* w0 = KernelRow(weights, r, kernelH, kernelW);
            float* w1 = KernelRow(weights, r - 1, kernelH, kernelW);
            float* w2 = KernelRow(weights, r - 2, kernelH, kernelW);
            float* w3 = KernelRow(weights, r - 3, kernelH, kernelW);
            for (int kx = 0; kx < kernelW; kx++)
            {
                float* p = row + taps[kx];
                TVec u0 = TOps.Load(p + (0 * v));
                TVec u1 = TOps.Load(p + (1 * v));
                TVec u2 = TOps.Load(p + (2 * v));
                TVec u3 = TOps.Load(p + (3 * v));
                if (w0 != null)
                {
                    TVec w = TOps.Broadcast(w0[kx]);
                    a00 = TOps.MultiplyAdd(w, u0, a00);
                    a01 = TOps.MultiplyAdd(w, u1, a01);
                    a02 = TOps.MultiplyAdd(w, u2, a02);
                    a03 = TOps.MultiplyAdd(w, u3, a03);
                }

                if (w1 != null)
                {
                    TVec w = TOps.Broadcast(w1[kx]);
                    a10 = TOps.MultiplyAdd(w, u0, a10);
                    a11 = TOps.MultiplyAdd(w, u1, a11);
                    a12 = TOps.MultiplyAdd(w, u2, a12);
                    a13 = TOps.MultiplyAdd(w, u3, a13);
                }

                if (w2 != null)
                {
                    TVec w = TOps.Broadcast(w2[kx]);
                    a20 = TOps.MultiplyAdd(w, u0, a20);
                    a21 = TOps.MultiplyAdd(w, u1, a21);
                    a22 = TOps.MultiplyAdd(w, u2, a22);
                    a23 = TOps.MultiplyAdd(w, u3, a23);
                }

                if (w3 != null)
                {
                    TVec w = TOps.Broadcast(w3[kx]);
                    a30 = TOps.MultiplyAdd(w, u0, a30);
                    a31 = TOps.MultiplyAdd(w, u1, a31);
                    a32 = TOps.MultiplyAdd(w, u2, a32);
                    a33 = TOps.MultiplyAdd(w, u3, a33);
                }
            }
        }

        if (x + (Vectors * v) <= width)
        {
            TOps.Store(outputs[0] + x, a00);
            TOps.Store(outputs[0] + x + v, a01);
            TOps.Store(outputs[0] + x + (2 * v), a02);
            TOps.Store(outputs[0] + x + (3 * v), a03);
            TOps.Store(outputs[1] + x, a10);
            TOps.Store(outputs[1] + x + v, a11);
            TOps.Store(outputs[1] + x + (2 * v), a12);
            TOps.Store(outputs[1] + x + (3 * v), a13);
            TOps.Store(outputs[2] + x, a20);
            TOps.Store(outputs[2] + x + v, a21);
            TOps.Store(outputs[2] + x + (2 * v), a22);
            TOps.Store(outputs[2] + x + (3 * v), a23);
            TOps.Store(outputs[3] + x, a30);
            TOps.Store(outputs[3] + x + v, a31);
            TOps.Store(outputs[3] + x + (2 * v), a32);
            TOps.Store(outputs[3] + x + (3 * v), a33);
        }
        else
        {
            int count = width - x;
            StoreRow<TOps, TVec>(outputs[0] + x, count, tail, a00, a01, a02, a03);
            StoreRow<TOps, TVec>(outputs[1] + x, count, tail, a10, a11, a12, a13);
            StoreRow<TOps, TVec>(outputs[2] + x, count, tail, a20, a21, a22, a23);
            StoreRow<TOps, TVec>(outputs[3] + x, count, tail, a30, a31, a32, a33);
        }
    }

    /// <summary>The last two vectors of width (narrow images: all of it): eight chains, each broadcast feeds two FMAs.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TwoVectors<TOps, TVec>(float** rows, int* taps, int kernelH, int kernelW, float* weights, TVec biasVector, float** outputs, int width, float* tail, int x)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        int v = TOps.Count;
        TVec s00 = biasVector, s01 = biasVector, s10 = biasVector, s11 = biasVector;
        TVec s20 = biasVector, s21 = biasVector, s30 = biasVector, s31 = biasVector;
        for (int r = 0; r < kernelH + Rows - 1; r++)
        {
            float* row = rows[r] + x;
            float* w0 = KernelRow(weights, r, kernelH, kernelW);
            float* w1 = KernelRow(weights, r - 1, kernelH, kernelW);
            float* w2 = KernelRow(weights, r - 2, kernelH, kernelW);
            float* w3 = KernelRow(weights, r - 3, kernelH, kernelW);
            for (int kx = 0; kx < kernelW; kx++)
            {
                float* p = row + taps[kx];
                TVec u0 = TOps.Load(p);
                TVec u1 = TOps.Load(p + v);
                if (w0 != null)
                {
                    TVec w = TOps.Broadcast(w0[kx]);
                    s00 = TOps.MultiplyAdd(w, u0, s00);
                    s01 = TOps.MultiplyAdd(w, u1, s01);
                }

                if (w1 != null)
                {
                    TVec w = TOps.Broadcast(w1[kx]);
                    s10 = TOps.MultiplyAdd(w, u0, s10);
                    s11 = TOps.MultiplyAdd(w, u1, s11);
                }

                if (w2 != null)
                {
                    TVec w = TOps.Broadcast(w2[kx]);
                    s20 = TOps.MultiplyAdd(w, u0, s20);
                    s21 = TOps.MultiplyAdd(w, u1, s21);
                }

                if (w3 != null)
                {
                    TVec w = TOps.Broadcast(w3[kx]);
                    s30 = TOps.MultiplyAdd(w, u0, s30);
                    s31 = TOps.MultiplyAdd(w, u1, s31);
                }
            }
        }

        int count = width - x;
        VectorCopy.StorePrefix<TOps, TVec>(s00, outputs[0] + x, count, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s01, outputs[0] + x + v, count - v, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s10, outputs[1] + x, count, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s11, outputs[1] + x + v, count - v, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s20, outputs[2] + x, count, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s21, outputs[2] + x + v, count - v, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s30, outputs[3] + x, count, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s31, outputs[3] + x + v, count - v, tail);
    }

    /// <summary>The last vector of width: one vector per output row, still four independent chains.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void OneVector<TOps, TVec>(float** rows, int* taps, int kernelH, int kernelW, float* weights, TVec biasVector, float** outputs, int width, float* tail, int x)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        TVec s0 = biasVector, s1 = biasVector, s2 = biasVector, s3 = biasVector;
        for (int r = 0; r < kernelH + Rows - 1; r++)
        {
            float* row = rows[r] + x;
            float* w0 = KernelRow(weights, r, kernelH, kernelW);
            float* w1 = KernelRow(weights, r - 1, kernelH, kernelW);
            float* w2 = KernelRow(weights, r - 2, kernelH, kernelW);
            float* w3 = KernelRow(weights, r - 3, kernelH, kernelW);
            for (int kx = 0; kx < kernelW; kx++)
            {
                TVec u = TOps.Load(row + taps[kx]);
                if (w0 != null)
                {
                    s0 = TOps.MultiplyAdd(TOps.Broadcast(w0[kx]), u, s0);
                }

                if (w1 != null)
                {
                    s1 = TOps.MultiplyAdd(TOps.Broadcast(w1[kx]), u, s1);
                }

                if (w2 != null)
                {
                    s2 = TOps.MultiplyAdd(TOps.Broadcast(w2[kx]), u, s2);
                }

                if (w3 != null)
                {
                    s3 = TOps.MultiplyAdd(TOps.Broadcast(w3[kx]), u, s3);
                }
            }
        }

        VectorCopy.StorePrefix<TOps, TVec>(s0, outputs[0] + x, width - x, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s1, outputs[1] + x, width - x, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s2, outputs[2] + x, width - x, tail);
        VectorCopy.StorePrefix<TOps, TVec>(s3, outputs[3] + x, width - x, tail);
    }

    /// <summary>Kernel row <paramref name="ky"/> of the filter, or null when the input row feeds no kernel row of that output row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* KernelRow(float* weights, int ky, int kernelH, int kernelW) =>
        (uint)ky < (uint)kernelH ? weights + (ky * kernelW) : null;

    /// <summary>The first <paramref name="count"/> columns of a row held in consecutive vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TOps, TVec>(float* destination, int count, float* tail, TVec first, TVec second, TVec third, TVec fourth)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        int v = TOps.Count;
        VectorCopy.StorePrefix<TOps, TVec>(first, destination, count, tail);
        VectorCopy.StorePrefix<TOps, TVec>(second, destination + v, count - v, tail);
        VectorCopy.StorePrefix<TOps, TVec>(third, destination + (2 * v), count - (2 * v), tail);
        VectorCopy.StorePrefix<TOps, TVec>(fourth, destination + (3 * v), count - (3 * v), tail);
    }
}
