using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Kernels;

/// <summary>
/// The horizontal pass of a separable filter on AVX-512 (unit stride and dilation, at most 17
/// taps): the laid-out row is read with one aligned load per output vector and each tap's
/// shifted vector is formed in registers (vpermt2ps), instead of one unaligned, mostly
/// cache-line-splitting load per tap.
/// </summary>
internal static unsafe class RowPassKernel512
{
    private static readonly int[] ShiftLanes = CreateShiftLanes();

    public static bool Supports(Conv2dGeometry g) =>
        Avx512F.IsSupported && g.StrideW == 1 && g.DilationW == 1 && g.KernelW <= 17;

    /// <summary>Index vector for tap s: lanes s .. s + 15 of the concatenation of two vectors.</summary>
    public static Vector512<int> ShiftIndex(int s)
    {
        fixed (int* lanes = ShiftLanes)
        {
            return Vector512.Load(lanes + s);
        }
    }

    /// <param name="row">64-byte aligned, readable up to the width rounded up to 64, plus 16 floats.</param>
    /// <param name="indices">Kw index vectors from <see cref="ShiftIndex"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* row, Vector512<int>* indices, float* weights, int kernelW, float bias, float* destination, int width, float* tail)
    {
        var biasVector = Vector512.Create(bias);
        for (int x = 0; x < width; x += 64)
        {
            float* p = row + x;
            Vector512<float> a0 = Vector512.LoadAligned(p), a1 = Vector512.LoadAligned(p + 16), a2 = Vector512.LoadAligned(p + 32);
            Vector512<float> a3 = Vector512.LoadAligned(p + 48), a4 = Vector512.LoadAligned(p + 64);
            Vector512<float> acc0 = biasVector, acc1 = biasVector, acc2 = biasVector, acc3 = biasVector;
            for (int j = 0; j < kernelW; j++)
            {
                Vector512<int> index = indices[j];
                Vector512<float> w = Vector512.Create(weights[j]);
                acc0 = Avx512F.FusedMultiplyAdd(w, Avx512F.PermuteVar16x32x2(a0, index, a1), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(w, Avx512F.PermuteVar16x32x2(a1, index, a2), acc1);
                acc2 = Avx512F.FusedMultiplyAdd(w, Avx512F.PermuteVar16x32x2(a2, index, a3), acc2);
                acc3 = Avx512F.FusedMultiplyAdd(w, Avx512F.PermuteVar16x32x2(a3, index, a4), acc3);
            }

            if (x + 64 <= width)
            {
                acc0.Store(destination + x);
                acc1.Store(destination + x + 16);
                acc2.Store(destination + x + 32);
                acc3.Store(destination + x + 48);
            }
            else
            {
                acc0.Store(tail);
                acc1.Store(tail + 16);
                acc2.Store(tail + 32);
                acc3.Store(tail + 48);
                VectorCopy.Copy<Vector512Ops, Vector512<float>>(tail, destination + x, width - x);
            }
        }
    }

    private static int[] CreateShiftLanes()
    {
        var lanes = new int[33];
        for (int i = 0; i < lanes.Length; i++)
        {
            lanes[i] = i;
        }

        return lanes;
    }
}
