using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// How the direct AVX-512 depthwise kernels read sixteen columns of an input row: whole vectors in the interior,
/// masked loads at the borders, so columns outside the row read as zero padding without a padded copy.
/// </summary>
internal static unsafe class RowLoads
{
    private const int V = 16;

    /// <summary>All ones in the lanes whose column <c>x + lane</c> lies in [0, width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ColumnMask(int x, int width)
    {
        var columns = Vector512<int>.Indices + Vector512.Create(x);
        return (Vector512.GreaterThanOrEqual(columns, Vector512<int>.Zero) & Vector512.LessThan(columns, Vector512.Create(width))).AsSingle();
    }

    public interface IRowLoad
    {
        static abstract Vector512<float> Load(float* row, int x, int width);
    }

    /// <summary>Sixteen columns known to lie inside the row.</summary>
    public readonly struct Whole : IRowLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(float* row, int x, int width) => Vector512.Load(row + x);
    }

    /// <summary>Sixteen columns of which those outside [0, width) read as zero (masked lanes never touch memory).</summary>
    public readonly struct Clipped : IRowLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(float* row, int x, int width)
        {
            if (x >= 0 && x + V <= width)
            {
                return Vector512.Load(row + x);
            }

            if (x + V <= 0 || x >= width)
            {
                return Vector512<float>.Zero;
            }

            return Avx512F.MaskLoad(row + x, ColumnMask(x, width), Vector512<float>.Zero);
        }
    }
}
