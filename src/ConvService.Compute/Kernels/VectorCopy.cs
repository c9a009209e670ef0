using System.Runtime.CompilerServices;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Kernels;

/// <summary>Short row copies without call overhead: whole vectors, the last one overlapping the previous.</summary>
internal static unsafe class VectorCopy
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy<TOps, TVec>(float* source, float* destination, int count)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        int v = TOps.Count;
        if (count < v)
        {
            for (int i = 0; i < count; i++)
            {
                destination[i] = source[i];
            }

            return;
        }

        int x = 0;
        for (; x + v <= count; x += v)
        {
            TOps.Store(destination + x, TOps.Load(source + x));
        }

        if (x < count)
        {
            TOps.Store(destination + count - v, TOps.Load(source + count - v));
        }
    }
}
