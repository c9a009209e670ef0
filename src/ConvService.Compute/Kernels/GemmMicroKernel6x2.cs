using System.Runtime.CompilerServices;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Kernels;

/// <summary>
/// The last, partial strip of <see cref="GemmMicroKernel6x4"/> plans when its positions fit in
/// 2 vectors: the same contract (A packed [k][6], row k of B at b + bRows[k]), computing and
/// storing only the first 2 vectors of each C row instead of a full 4-vector strip. On CPUs with
/// 16 vector registers (x64 without AVX-512) it is the main tile: 12 accumulators fit where 24 spill.
/// </summary>
internal static unsafe class GemmMicroKernel6x2
{
    public const int Rows = 6;
    public const int Vectors = 2;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOps, TVec, TMask>(float* a, float* b, int* bRows, float* masks, int* maskRows, int depth, float* bias, float* c, nint ldc, bool accumulate)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
        where TMask : struct, IColumnMask
    {
        int v = TOps.Count;
        TVec c00, c01;
        TVec c10, c11;
        TVec c20, c21;
        TVec c30, c31;
        TVec c40, c41;
        TVec c50, c51;
        if (accumulate)
        {
            c00 = TOps.Load(c + (0 * ldc));
            c01 = TOps.Load(c + (0 * ldc) + v);
            c10 = TOps.Load(c + (1 * ldc));
            c11 = TOps.Load(c + (1 * ldc) + v);
            c20 = TOps.Load(c + (2 * ldc));
            c21 = TOps.Load(c + (2 * ldc) + v);
            c30 = TOps.Load(c + (3 * ldc));
            c31 = TOps.Load(c + (3 * ldc) + v);
            c40 = TOps.Load(c + (4 * ldc));
            c41 = TOps.Load(c + (4 * ldc) + v);
            c50 = TOps.Load(c + (5 * ldc));
            c51 = TOps.Load(c + (5 * ldc) + v);
        }
        else
        {
            c00 = TOps.Broadcast(bias[0]);
            c01 = c00;
            c10 = TOps.Broadcast(bias[1]);
            c11 = c10;
            c20 = TOps.Broadcast(bias[2]);
            c21 = c20;
            c30 = TOps.Broadcast(bias[3]);
            c31 = c30;
            c40 = TOps.Broadcast(bias[4]);
            c41 = c40;
            c50 = TOps.Broadcast(bias[5]);
            c51 = c50;
        }

        for (int k = 0; k < depth; k++)
        {
            float* bk = b + bRows[k];
            TVec b0 = TOps.Load(bk);
            TVec b1 = TOps.Load(bk + v);
            if (TMask.Enabled)
            {
                // Lanes whose tap falls left or right of the input row read a neighbouring row: zero them.
                float* mk = masks + maskRows[k];
                b0 = TOps.And(b0, TOps.Load(mk));
                b1 = TOps.And(b1, TOps.Load(mk + v));
            }

            TVec a0 = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(a0, b0, c00);
            c01 = TOps.MultiplyAdd(a0, b1, c01);
            TVec a1 = TOps.Broadcast(a[1]);
            c10 = TOps.MultiplyAdd(a1, b0, c10);
            c11 = TOps.MultiplyAdd(a1, b1, c11);
            TVec a2 = TOps.Broadcast(a[2]);
            c20 = TOps.MultiplyAdd(a2, b0, c20);
            c21 = TOps.MultiplyAdd(a2, b1, c21);
            TVec a3 = TOps.Broadcast(a[3]);
            c30 = TOps.MultiplyAdd(a3, b0, c30);
            c31 = TOps.MultiplyAdd(a3, b1, c31);
            TVec a4 = TOps.Broadcast(a[4]);
            c40 = TOps.MultiplyAdd(a4, b0, c40);
            c41 = TOps.MultiplyAdd(a4, b1, c41);
            TVec a5 = TOps.Broadcast(a[5]);
            c50 = TOps.MultiplyAdd(a5, b0, c50);
            c51 = TOps.MultiplyAdd(a5, b1, c51);
            a += Rows;
        }

        TOps.Store(c + (0 * ldc), c00);
        TOps.Store(c + (0 * ldc) + v, c01);
        TOps.Store(c + (1 * ldc), c10);
        TOps.Store(c + (1 * ldc) + v, c11);
        TOps.Store(c + (2 * ldc), c20);
        TOps.Store(c + (2 * ldc) + v, c21);
        TOps.Store(c + (3 * ldc), c30);
        TOps.Store(c + (3 * ldc) + v, c31);
        TOps.Store(c + (4 * ldc), c40);
        TOps.Store(c + (4 * ldc) + v, c41);
        TOps.Store(c + (5 * ldc), c50);
        TOps.Store(c + (5 * ldc) + v, c51);
    }
}
