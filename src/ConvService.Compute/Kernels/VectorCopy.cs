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

    /// <summary>
    /// Stores the first <paramref name="count"/> lanes of <paramref name="value"/> (none if count &lt;= 0, all if count is at
    /// least the vector width): a partial vector goes through <paramref name="tail"/>, copied without a call, so no
    /// accumulator a kernel still holds has to be spilled around one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePrefix<TOps, TVec>(TVec value, float* destination, int count, float* tail)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        if (count >= TOps.Count)
        {
            TOps.Store(destination, value);
        }
        else if (count > 0)
        {
            TOps.Store(tail, value);
            Copy<TOps, TVec>(tail, destination, count);
        }
    }
}
