using System.Runtime.CompilerServices;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Kernels;

/// <summary>
/// The last, partial strip of a 6-row plan when its positions fit in one vector: the same
/// contract as <see cref="GemmMicroKernel6x2"/> (A packed [k][6], row k of B at b + bRows[k]),
/// computing and storing only the first vector of each C row (S5's 16-position last strip ran as
/// a 2-vector strip, half of it padding).
/// </summary>
internal static unsafe class GemmMicroKernel6x1
{
    public const int Rows = 6;
    public const int Vectors = 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TOps, TVec, TMask>(float* a, float* b, int* bRows, float* masks, int* maskRows, int depth, float* bias, float* c, nint ldc, bool accumulate)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
        where TMask : struct, IColumnMask
    {
        TVec c00;
        TVec c10;
        TVec c20;
        TVec c30;
        TVec c40;
        TVec c50;
        if (accumulate)
        {
            c00 = TOps.Load(c + (0 * ldc));
            c10 = TOps.Load(c + (1 * ldc));
            c20 = TOps.Load(c + (2 * ldc));
            c30 = TOps.Load(c + (3 * ldc));
            c40 = TOps.Load(c + (4 * ldc));
            c50 = TOps.Load(c + (5 * ldc));
        }
        else
        {
            c00 = TOps.Broadcast(bias[0]);
            c10 = TOps.Broadcast(bias[1]);
            c20 = TOps.Broadcast(bias[2]);
            c30 = TOps.Broadcast(bias[3]);
            c40 = TOps.Broadcast(bias[4]);
            c50 = TOps.Broadcast(bias[5]);
        }

        for (int k = 0; k < depth; k++)
        {
            float* bk = b + bRows[k];
            TVec b0 = TOps.Load(bk);
            if (TMask.Enabled)
            {
                // Lanes whose tap falls left or right of the input row read a neighbouring row: zero them.
                float* mk = masks + maskRows[k];
                b0 = TOps.And(b0, TOps.Load(mk));
            }

            TVec a0 = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(a0, b0, c00);
            TVec a1 = TOps.Broadcast(a[1]);
            c10 = TOps.MultiplyAdd(a1, b0, c10);
            TVec a2 = TOps.Broadcast(a[2]);
            c20 = TOps.MultiplyAdd(a2, b0, c20);
            TVec a3 = TOps.Broadcast(a[3]);
            c30 = TOps.MultiplyAdd(a3, b0, c30);
            TVec a4 = TOps.Broadcast(a[4]);
            c40 = TOps.MultiplyAdd(a4, b0, c40);
            TVec a5 = TOps.Broadcast(a[5]);
            c50 = TOps.MultiplyAdd(a5, b0, c50);
            a += Rows;
        }

        TOps.Store(c + (0 * ldc), c00);
        TOps.Store(c + (1 * ldc), c10);
        TOps.Store(c + (2 * ldc), c20);
        TOps.Store(c + (3 * ldc), c30);
        TOps.Store(c + (4 * ldc), c40);
        TOps.Store(c + (5 * ldc), c50);
    }
}
