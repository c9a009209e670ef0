using System.Runtime.CompilerServices;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Kernels;

/// <summary>
/// GEMM micro-kernel with a 6 x (4 vectors) register tile (24 accumulators): the companion of
/// <see cref="GemmMicroKernel8x3"/> for shapes whose positions fit 4-vector strips better (e.g.
/// 8x8 outputs) or whose channel count is a multiple of 6. Same contract: A packed [k][6], row k of B at b + bRows[k].
/// </summary>
internal static unsafe class GemmMicroKernel6x4
{
    public const int Rows = 6;
    public const int Vectors = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOps, TVec, TMask>(float* a, float* b, int* bRows, float* masks, int* maskRows, int depth, float* bias, float* c, nint ldc, bool accumulate)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
        where TMask : struct, IColumnMask
    {
        int v = TOps.Count;
        TVec c00, c01, c02, c03;
        TVec c10, c11, c12, c13;
        TVec c20, c21, c22, c23;
        TVec c30, c31, c32, c33;
        TVec c40, c41, c42, c43;
        TVec c50, c51, c52, c53;
        if (accumulate)
        {
            c00 = TOps.Load(c + (0 * ldc) + (0 * v));
            c01 = TOps.Load(c + (0 * ldc) + (1 * v));
            c02 = TOps.Load(c + (0 * ldc) + (2 * v));
            c03 = TOps.Load(c + (0 * ldc) + (3 * v));
            c10 = TOps.Load(c + (1 * ldc) + (0 * v));
            c11 = TOps.Load(c + (1 * ldc) + (1 * v));
            c12 = TOps.Load(c + (1 * ldc) + (2 * v));
            c13 = TOps.Load(c + (1 * ldc) + (3 * v));
            c20 = TOps.Load(c + (2 * ldc) + (0 * v));
            c21 = TOps.Load(c + (2 * ldc) + (1 * v));
            c22 = TOps.Load(c + (2 * ldc) + (2 * v));
            c23 = TOps.Load(c + (2 * ldc) + (3 * v));
            c30 = TOps.Load(c + (3 * ldc) + (0 * v));
            c31 = TOps.Load(c + (3 * ldc) + (1 * v));
            c32 = TOps.Load(c + (3 * ldc) + (2 * v));
            c33 = TOps.Load(c + (3 * ldc) + (3 * v));
            c40 = TOps.Load(c + (4 * ldc) + (0 * v));
            c41 = TOps.Load(c + (4 * ldc) + (1 * v));
            c42 = TOps.Load(c + (4 * ldc) + (2 * v));
            c43 = TOps.Load(c + (4 * ldc) + (3 * v));
            c50 = TOps.Load(c + (5 * ldc) + (0 * v));
            c51 = TOps.Load(c + (5 * ldc) + (1 * v));
            c52 = TOps.Load(c + (5 * ldc) + (2 * v));
            c53 = TOps.Load(c + (5 * ldc) + (3 * v));
        }
        else
        {
            c00 = TOps.Broadcast(bias[0]);
            c01 = c00;
            c02 = c00;
            c03 = c00;
            c10 = TOps.Broadcast(bias[1]);
            c11 = c10;
            c12 = c10;
            c13 = c10;
            c20 = TOps.Broadcast(bias[2]);
            c21 = c20;
            c22 = c20;
            c23 = c20;
            c30 = TOps.Broadcast(bias[3]);
            c31 = c30;
            c32 = c30;
            c33 = c30;
            c40 = TOps.Broadcast(bias[4]);
            c41 = c40;
            c42 = c40;
            c43 = c40;
            c50 = TOps.Broadcast(bias[5]);
            c51 = c50;
            c52 = c50;
            c53 = c50;
        }

        for (int k = 0; k < depth; k++)
        {
            float* bk = b + bRows[k];
            TVec b0 = TOps.Load(bk + (0 * v));
            TVec b1 = TOps.Load(bk + (1 * v));
            TVec b2 = TOps.Load(bk + (2 * v));
            TVec b3 = TOps.Load(bk + (3 * v));
            if (TMask.Enabled)
            {
                // Lanes whose tap falls left or right of the input row read a neighbouring row: zero them.
                float* mk = masks + maskRows[k];
                b0 = TOps.And(b0, TOps.Load(mk + (0 * v)));
                b1 = TOps.And(b1, TOps.Load(mk + (1 * v)));
                b2 = TOps.And(b2, TOps.Load(mk + (2 * v)));
                b3 = TOps.And(b3, TOps.Load(mk + (3 * v)));
            }

            TVec a0 = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(a0, b0, c00);
            c01 = TOps.MultiplyAdd(a0, b1, c01);
            c02 = TOps.MultiplyAdd(a0, b2, c02);
            c03 = TOps.MultiplyAdd(a0, b3, c03);
            TVec a1 = TOps.Broadcast(a[1]);
            c10 = TOps.MultiplyAdd(a1, b0, c10);
            c11 = TOps.MultiplyAdd(a1, b1, c11);
            c12 = TOps.MultiplyAdd(a1, b2, c12);
            c13 = TOps.MultiplyAdd(a1, b3, c13);
            TVec a2 = TOps.Broadcast(a[2]);
            c20 = TOps.MultiplyAdd(a2, b0, c20);
            c21 = TOps.MultiplyAdd(a2, b1, c21);
            c22 = TOps.MultiplyAdd(a2, b2, c22);
            c23 = TOps.MultiplyAdd(a2, b3, c23);
            TVec a3 = TOps.Broadcast(a[3]);
            c30 = TOps.MultiplyAdd(a3, b0, c30);
            c31 = TOps.MultiplyAdd(a3, b1, c31);
            c32 = TOps.MultiplyAdd(a3, b2, c32);
            c33 = TOps.MultiplyAdd(a3, b3, c33);
            TVec a4 = TOps.Broadcast(a[4]);
            c40 = TOps.MultiplyAdd(a4, b0, c40);
            c41 = TOps.MultiplyAdd(a4, b1, c41);
            c42 = TOps.MultiplyAdd(a4, b2, c42);
            c43 = TOps.MultiplyAdd(a4, b3, c43);
            TVec a5 = TOps.Broadcast(a[5]);
            c50 = TOps.MultiplyAdd(a5, b0, c50);
            c51 = TOps.MultiplyAdd(a5, b1, c51);
            c52 = TOps.MultiplyAdd(a5, b2, c52);
            c53 = TOps.MultiplyAdd(a5, b3, c53);
            a += Rows;
        }

        TOps.Store(c + (0 * ldc) + (0 * v), c00);
        TOps.Store(c + (0 * ldc) + (1 * v), c01);
        TOps.Store(c + (0 * ldc) + (2 * v), c02);
        TOps.Store(c + (0 * ldc) + (3 * v), c03);
        TOps.Store(c + (1 * ldc) + (0 * v), c10);
        TOps.Store(c + (1 * ldc) + (1 * v), c11);
        TOps.Store(c + (1 * ldc) + (2 * v), c12);
        TOps.Store(c + (1 * ldc) + (3 * v), c13);
        TOps.Store(c + (2 * ldc) + (0 * v), c20);
        TOps.Store(c + (2 * ldc) + (1 * v), c21);
        TOps.Store(c + (2 * ldc) + (2 * v), c22);
        TOps.Store(c + (2 * ldc) + (3 * v), c23);
        TOps.Store(c + (3 * ldc) + (0 * v), c30);
        TOps.Store(c + (3 * ldc) + (1 * v), c31);
        TOps.Store(c + (3 * ldc) + (2 * v), c32);
        TOps.Store(c + (3 * ldc) + (3 * v), c33);
        TOps.Store(c + (4 * ldc) + (0 * v), c40);
        TOps.Store(c + (4 * ldc) + (1 * v), c41);
        TOps.Store(c + (4 * ldc) + (2 * v), c42);
        TOps.Store(c + (4 * ldc) + (3 * v), c43);
        TOps.Store(c + (5 * ldc) + (0 * v), c50);
        TOps.Store(c + (5 * ldc) + (1 * v), c51);
        TOps.Store(c + (5 * ldc) + (2 * v), c52);
        TOps.Store(c + (5 * ldc) + (3 * v), c53);
    }
}
