using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// The column-sum form of a 3x3 filter that both stride-1 AVX-512 3x3 kernels use. Shifting is linear, so rather
/// than shift each input row to its left and right neighbours and multiply, each kernel column's three taps are
/// applied to the unshifted rows above, at and below (a left, a centre and a right sum) and only the left and
/// right sums are shifted into place: output pixel x is <c>left(x - 1) + centre(x) + right(x + 1)</c>.
/// </summary>
internal static class ColumnSums3x3
{
    /// <summary>The left sum (starting from <paramref name="bias"/>) and the right sum of one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LeftAndRight(
        Vector512<float> top, Vector512<float> middle, Vector512<float> bottom,
        Vector512<float> w00, Vector512<float> w02, Vector512<float> w10, Vector512<float> w12, Vector512<float> w20, Vector512<float> w22,
        Vector512<float> bias, out Vector512<float> left, out Vector512<float> right)
    {
        left = Avx512F.FusedMultiplyAdd(w00, top, bias);
        right = w02 * top;
        left = Avx512F.FusedMultiplyAdd(w10, middle, left);
        right = Avx512F.FusedMultiplyAdd(w12, middle, right);
        left = Avx512F.FusedMultiplyAdd(w20, bottom, left);
        right = Avx512F.FusedMultiplyAdd(w22, bottom, right);
    }

    /// <summary><paramref name="start"/> plus the centre column's taps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> AddCentre(
        Vector512<float> start, Vector512<float> top, Vector512<float> middle, Vector512<float> bottom,
        Vector512<float> w01, Vector512<float> w11, Vector512<float> w21)
    {
        var sum = Avx512F.FusedMultiplyAdd(w01, top, start);
        sum = Avx512F.FusedMultiplyAdd(w11, middle, sum);
        return Avx512F.FusedMultiplyAdd(w21, bottom, sum);
    }

    /// <summary><c>[previous[15], current[0..14]]</c> (<c>valignd</c>): each lane's left neighbour.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FromLeft(Vector512<float> current, Vector512<float> previous) =>
        Avx512F.AlignRight32(current.AsUInt32(), previous.AsUInt32(), 15).AsSingle();

    /// <summary><c>[previous[1..15], current[0]]</c> (<c>valignd</c>): each lane of the previous vector's right neighbour.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FromRight(Vector512<float> current, Vector512<float> previous) =>
        Avx512F.AlignRight32(current.AsUInt32(), previous.AsUInt32(), 1).AsSingle();
}
