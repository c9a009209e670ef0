using System.Runtime.CompilerServices;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Kernels;

/// <summary>
/// GEMM micro-kernel with an 8 x (3 vectors) register tile: 8 output channels by 3 vectors of
/// output positions, 24 accumulators in registers for the whole reduction. A is packed [k][8];
/// row k of B is 3 vectors at b + bRows[k] (a packed block, or the shifted source read in place,
/// which saved the B copy: S2 4.86 -> 4.48 ms at one thread): the loop body is an offset load,
/// vector loads, broadcasts, FMAs and one pointer bump.
/// With <c>accumulate</c> the tile continues sums already in C (blocked reductions), else starts from the bias.
/// </summary>
internal static unsafe class GemmMicroKernel8x3
{
    public const int Rows = 8;
    public const int Vectors = 3;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOps, TVec, TMask>(float* a, float* b, int* bRows, float* masks, int* maskRows, int depth, float* bias, float* c, nint ldc, bool accumulate)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
        where TMask : struct, IColumnMask
    {
        int v = TOps.Count;
        TVec c00, c01, c02;
        TVec c10, c11, c12;
        TVec c20, c21, c22;
        TVec c30, c31, c32;
        TVec c40, c41, c42;
        TVec c50, c51, c52;
        TVec c60, c61, c62;
        TVec c70, c71, c72;
        if (accumulate)
        {
            c00 = TOps.Load(c + (0 * ldc));
            c01 = TOps.Load(c + (0 * ldc) + v);
            c02 = TOps.Load(c + (0 * ldc) + (2 * v));
            c10 = TOps.Load(c + (1 * ldc));
            c11 = TOps.Load(c + (1 * ldc) + v);
            c12 = TOps.Load(c + (1 * ldc) + (2 * v));
            c20 = TOps.Load(c + (2 * ldc));
            c21 = TOps.Load(c + (2 * ldc) + v);
            c22 = TOps.Load(c + (2 * ldc) + (2 * v));
            c30 = TOps.Load(c + (3 * ldc));
            c31 = TOps.Load(c + (3 * ldc) + v);
            c32 = TOps.Load(c + (3 * ldc) + (2 * v));
            c40 = TOps.Load(c + (4 * ldc));
            c41 = TOps.Load(c + (4 * ldc) + v);
            c42 = TOps.Load(c + (4 * ldc) + (2 * v));
            c50 = TOps.Load(c + (5 * ldc));
            c51 = TOps.Load(c + (5 * ldc) + v);
            c52 = TOps.Load(c + (5 * ldc) + (2 * v));
            c60 = TOps.Load(c + (6 * ldc));
            c61 = TOps.Load(c + (6 * ldc) + v);
            c62 = TOps.Load(c + (6 * ldc) + (2 * v));
            c70 = TOps.Load(c + (7 * ldc));
            c71 = TOps.Load(c + (7 * ldc) + v);
            c72 = TOps.Load(c + (7 * ldc) + (2 * v));
        }
        else
        {
            c00 = TOps.Broadcast(bias[0]);
            c01 = c00;
            c02 = c00;
            c10 = TOps.Broadcast(bias[1]);
            c11 = c10;
            c12 = c10;
            c20 = TOps.Broadcast(bias[2]);
            c21 = c20;
            c22 = c20;
            c30 = TOps.Broadcast(bias[3]);
            c31 = c30;
            c32 = c30;
            c40 = TOps.Broadcast(bias[4]);
            c41 = c40;
            c42 = c40;
            c50 = TOps.Broadcast(bias[5]);
            c51 = c50;
            c52 = c50;
            c60 = TOps.Broadcast(bias[6]);
            c61 = c60;
            c62 = c60;
            c70 = TOps.Broadcast(bias[7]);
            c71 = c70;
            c72 = c70;
        }

        for (int k = 0; k < depth; k++)
        {
            float* bk = b + bRows[k];
            TVec b0 = TOps.Load(bk);
            TVec b1 = TOps.Load(bk + v);
            TVec b2 = TOps.Load(bk + (2 * v));
            if (TMask.Enabled)
            {
                // Lanes whose tap falls left or right of the input row read a neighbouring row: zero them.
                float* mk = masks + maskRows[k];
                b0 = TOps.And(b0, TOps.Load(mk));
                b1 = TOps.And(b1, TOps.Load(mk + v));
                b2 = TOps.And(b2, TOps.Load(mk + (2 * v)));
            }

            TVec a0 = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(a0, b0, c00);
            c01 = TOps.MultiplyAdd(a0, b1, c01);
            c02 = TOps.MultiplyAdd(a0, b2, c02);
            TVec a1 = TOps.Broadcast(a[1]);
            c10 = TOps.MultiplyAdd(a1, b0, c10);
            c11 = TOps.MultiplyAdd(a1, b1, c11);
            c12 = TOps.MultiplyAdd(a1, b2, c12);
            TVec a2 = TOps.Broadcast(a[2]);
            c20 = TOps.MultiplyAdd(a2, b0, c20);
            c21 = TOps.MultiplyAdd(a2, b1, c21);
            c22 = TOps.MultiplyAdd(a2, b2, c22);
            TVec a3 = TOps.Broadcast(a[3]);
            c30 = TOps.MultiplyAdd(a3, b0, c30);
            c31 = TOps.MultiplyAdd(a3, b1, c31);
            c32 = TOps.MultiplyAdd(a3, b2, c32);
            TVec a4 = TOps.Broadcast(a[4]);
            c40 = TOps.MultiplyAdd(a4, b0, c40);
            c41 = TOps.MultiplyAdd(a4, b1, c41);
            c42 = TOps.MultiplyAdd(a4, b2, c42);
            TVec a5 = TOps.Broadcast(a[5]);
            c50 = TOps.MultiplyAdd(a5, b0, c50);
            c51 = TOps.MultiplyAdd(a5, b1, c51);
            c52 = TOps.MultiplyAdd(a5, b2, c52);
            TVec a6 = TOps.Broadcast(a[6]);
            c60 = TOps.MultiplyAdd(a6, b0, c60);
            c61 = TOps.MultiplyAdd(a6, b1, c61);
            c62 = TOps.MultiplyAdd(a6, b2, c62);
            TVec a7 = TOps.Broadcast(a[7]);
            c70 = TOps.MultiplyAdd(a7, b0, c70);
            c71 = TOps.MultiplyAdd(a7, b1, c71);
            c72 = TOps.MultiplyAdd(a7, b2, c72);
            a += Rows;
        }

        TOps.Store(c + (0 * ldc), c00);
        TOps.Store(c + (0 * ldc) + v, c01);
        TOps.Store(c + (0 * ldc) + (2 * v), c02);
        TOps.Store(c + (1 * ldc), c10);
        TOps.Store(c + (1 * ldc) + v, c11);
        TOps.Store(c + (1 * ldc) + (2 * v), c12);
        TOps.Store(c + (2 * ldc), c20);
        TOps.Store(c + (2 * ldc) + v, c21);
        TOps.Store(c + (2 * ldc) + (2 * v), c22);
        TOps.Store(c + (3 * ldc), c30);
        TOps.Store(c + (3 * ldc) + v, c31);
        TOps.Store(c + (3 * ldc) + (2 * v), c32);
        TOps.Store(c + (4 * ldc), c40);
        TOps.Store(c + (4 * ldc) + v, c41);
        TOps.Store(c + (4 * ldc) + (2 * v), c42);
        TOps.Store(c + (5 * ldc), c50);
        TOps.Store(c + (5 * ldc) + v, c51);
        TOps.Store(c + (5 * ldc) + (2 * v), c52);
        TOps.Store(c + (6 * ldc), c60);
        TOps.Store(c + (6 * ldc) + v, c61);
        TOps.Store(c + (6 * ldc) + (2 * v), c62);
        TOps.Store(c + (7 * ldc), c70);
        TOps.Store(c + (7 * ldc) + v, c71);
        TOps.Store(c + (7 * ldc) + (2 * v), c72);
    }
}
