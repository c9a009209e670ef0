using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// Two output rows of a 3x3 per-channel filter with stride 2, dilation 1 and at most one column of padding on the
/// left (PyTorch's "pad 1" downsampling layer, TensorFlow's SAME on even widths, VALID), straight from the input
/// rows, sixteen outputs at a time. The 32 input columns from 2x on are split once per input row into their even
/// and odd elements (two <c>vpermt2ps</c>); loads start at an even column of the row, so only the last vector of a
/// row is masked. With one column of left padding, output x reads columns 2x - 1, 2x, 2x + 1: centre taps on the
/// evens, right taps on the odds, left taps on the odds as a column sum (see <see cref="ColumnSums3x3"/>) shifted one
/// lane right against the previous vector's (zero before column 0). Without, it reads 2x, 2x + 1, 2x + 2: left taps
/// on the evens, centre taps on the odds, right taps on the evens as a column sum shifted one lane left against the
/// next vector's, so each vector is finished one step late. Rows above or below the image point at a zero row.
/// </summary>
/// <remarks>Wider left paddings go to <see cref="Depthwise3x3Stride2Avx512Kernel"/>.</remarks>
internal readonly unsafe struct Depthwise3x3Stride2EvenOddAvx512Kernel : IDirectDepthwiseKernel
{
    public const int Rows = 2;

    /// <summary>Input rows one call reads: output row j reads input rows 2j .. 2j + 2.</summary>
    public const int InputRows = (2 * Rows) + 1;

    private const int V = 16;

    public static int Size => 3;

    static int IDirectDepthwiseKernel.Rows => Rows;

    static int IDirectDepthwiseKernel.InputRows => InputRows;

    /// <summary>The nine taps as they come (row-major): this kernel keeps them in registers.</summary>
    public static int PackedTaps => 9;

    public static int Stride => 2;

    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>No or one column of padding on the left; any on the right (columns past the row read as zeros).</summary>
    public static bool Fits(Conv2dGeometry g) => Depthwise3x3Stride2Avx512Kernel.Fits(g) && g.PadLeft <= 1;

    public static void PackWeights(ReadOnlySpan<float> taps, Span<float> packed) => taps[..9].CopyTo(packed);

    /// <summary>
    /// <paramref name="rows"/>: the five input rows (zero rows, at least <c>shape.InWidth</c> long, outside the
    /// image) of output rows 0 and 1; output row j goes to <c>destination + j * shape.OutWidth</c> for j &lt;
    /// <paramref name="rowCount"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(float** rows, float* weights, float bias, float* destination, DirectRowShape shape, int rowCount)
    {
        if (shape.PadLeft == 1)
        {
            RunLeftPadded(rows, weights, bias, destination, shape.InWidth, shape.OutWidth, rowCount);
        }
        else
        {
            RunUnpadded(rows, weights, bias, destination, shape.InWidth, shape.OutWidth, rowCount);
        }
    }

    /// <summary>One column of left padding: output x reads input columns 2x - 1 .. 2x + 1.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RunLeftPadded(float** rows, float* weights, float bias, float* destination, int inWidth, int outWidth, int rowCount)
    {
        // The nine taps as locals (a struct of them is not enregistered and costs a copy per use).
        var w00 = Vector512.Create(weights[0]);
        var w01 = Vector512.Create(weights[1]);
        var w02 = Vector512.Create(weights[2]);
        var w10 = Vector512.Create(weights[3]);
        var w11 = Vector512.Create(weights[4]);
        var w12 = Vector512.Create(weights[5]);
        var w20 = Vector512.Create(weights[6]);
        var w21 = Vector512.Create(weights[7]);
        var w22 = Vector512.Create(weights[8]);
        var b = Vector512.Create(bias);
        var evenLanes = Vector512<int>.Indices + Vector512<int>.Indices;
        var oddLanes = evenLanes + Vector512<int>.One;
        float* in0 = rows[0], in1 = rows[1], in2 = rows[2], in3 = rows[3], in4 = rows[4];

        // Per output row, the previous vector's left sums: zero before column 0 (the padding column).
        Vector512<float> previousLeft0 = default, previousLeft1 = default;
        for (int x = 0; x < outWidth; x += V)
        {
            int column = 2 * x;
            bool whole = column + (2 * V) <= inWidth;
            Split(in0, column, inWidth, whole, evenLanes, oddLanes, out var e0, out var o0);
            Split(in1, column, inWidth, whole, evenLanes, oddLanes, out var e1, out var o1);
            Split(in2, column, inWidth, whole, evenLanes, oddLanes, out var e2, out var o2);
            Split(in3, column, inWidth, whole, evenLanes, oddLanes, out var e3, out var o3);
            Split(in4, column, inWidth, whole, evenLanes, oddLanes, out var e4, out var o4);

            // Output row 0 reads input rows 0-2, row 1 rows 2-4.
            var out0 = LeftPaddedRow(e0, o0, e1, o1, e2, o2, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, ref previousLeft0);
            var out1 = LeftPaddedRow(e2, o2, e3, o3, e4, o4, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, ref previousLeft1);

            float* d = destination + x;
            if (x + V <= outWidth)
            {
                out0.Store(d);
                if (rowCount > 1)
                {
                    out1.Store(d + outWidth);
                }
            }
            else
            {
                var mask = RowLoads.ColumnMask(x, outWidth);
                Avx512F.MaskStore(d, mask, out0);
                if (rowCount > 1)
                {
                    Avx512F.MaskStore(d + outWidth, mask, out1);
                }
            }
        }
    }

    /// <summary>No left padding: output x reads input columns 2x .. 2x + 2; vector v is finished at step v + 1.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RunUnpadded(float** rows, float* weights, float bias, float* destination, int inWidth, int outWidth, int rowCount)
    {
        var w00 = Vector512.Create(weights[0]);
        var w01 = Vector512.Create(weights[1]);
        var w02 = Vector512.Create(weights[2]);
        var w10 = Vector512.Create(weights[3]);
        var w11 = Vector512.Create(weights[4]);
        var w12 = Vector512.Create(weights[5]);
        var w20 = Vector512.Create(weights[6]);
        var w21 = Vector512.Create(weights[7]);
        var w22 = Vector512.Create(weights[8]);
        var b = Vector512.Create(bias);
        var evenLanes = Vector512<int>.Indices + Vector512<int>.Indices;
        var oddLanes = evenLanes + Vector512<int>.One;
        float* in0 = rows[0], in1 = rows[1], in2 = rows[2], in3 = rows[3], in4 = rows[4];

        // Per output row, the previous vector's output without its right taps, and its right sums.
        Vector512<float> pending0 = default, pending1 = default, previousRight0 = default, previousRight1 = default;
        int x = 0;
        for (; x < outWidth; x += V)
        {
            int column = 2 * x;
            bool whole = column + (2 * V) <= inWidth;
            Split(in0, column, inWidth, whole, evenLanes, oddLanes, out var e0, out var o0);
            Split(in1, column, inWidth, whole, evenLanes, oddLanes, out var e1, out var o1);
            Split(in2, column, inWidth, whole, evenLanes, oddLanes, out var e2, out var o2);
            Split(in3, column, inWidth, whole, evenLanes, oddLanes, out var e3, out var o3);
            Split(in4, column, inWidth, whole, evenLanes, oddLanes, out var e4, out var o4);
            var done0 = UnpaddedRow(e0, o0, e1, o1, e2, o2, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, ref pending0, ref previousRight0);
            var done1 = UnpaddedRow(e2, o2, e3, o3, e4, o4, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, ref pending1, ref previousRight1);
            if (x > 0)
            {
                // Every vector but the last is whole.
                float* d = destination + x - V;
                done0.Store(d);
                if (rowCount > 1)
                {
                    done1.Store(d + outWidth);
                }
            }
        }

        // The last vector's right taps are the first even column of the next block, which may still lie in the row.
        int next = 2 * x;
        var right0 = RightSum(in0, in1, in2, next, inWidth, evenLanes, oddLanes, w02, w12, w22);
        var right1 = RightSum(in2, in3, in4, next, inWidth, evenLanes, oddLanes, w02, w12, w22);
        var last0 = pending0 + ColumnSums3x3.FromRight(right0, previousRight0);
        var last1 = pending1 + ColumnSums3x3.FromRight(right1, previousRight1);
        var mask = RowLoads.ColumnMask(x - V, outWidth);
        Avx512F.MaskStore(destination + x - V, mask, last0);
        if (rowCount > 1)
        {
            Avx512F.MaskStore(destination + x - V + outWidth, mask, last1);
        }
    }

    /// <summary>The right sum of the block of 32 columns from <paramref name="column"/> (zeros past the row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RightSum(
        float* top, float* middle, float* bottom, int column, int width, Vector512<int> evenLanes, Vector512<int> oddLanes,
        Vector512<float> w02, Vector512<float> w12, Vector512<float> w22)
    {
        Split(top, column, width, whole: false, evenLanes, oddLanes, out var e0, out _);
        Split(middle, column, width, whole: false, evenLanes, oddLanes, out var e1, out _);
        Split(bottom, column, width, whole: false, evenLanes, oddLanes, out var e2, out _);
        var right = w02 * e0;
        right = Avx512F.FusedMultiplyAdd(w12, e1, right);
        return Avx512F.FusedMultiplyAdd(w22, e2, right);
    }

    /// <summary>
    /// Sixteen outputs of one unpadded row from its three input rows split into even (columns 2x + 2i) and odd
    /// (2x + 2i + 1) elements: left taps on the evens, centre taps on the odds; the right taps on the evens are a
    /// column sum that completes the previous vector (one lane to the left). Returns the previous vector's output.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> UnpaddedRow(
        Vector512<float> e0, Vector512<float> o0, Vector512<float> e1, Vector512<float> o1, Vector512<float> e2, Vector512<float> o2,
        Vector512<float> w00, Vector512<float> w01, Vector512<float> w02,
        Vector512<float> w10, Vector512<float> w11, Vector512<float> w12,
        Vector512<float> w20, Vector512<float> w21, Vector512<float> w22,
        Vector512<float> bias, ref Vector512<float> pending, ref Vector512<float> previousRight)
    {
        var right = w02 * e0;
        var sum = Avx512F.FusedMultiplyAdd(w00, e0, bias);
        right = Avx512F.FusedMultiplyAdd(w12, e1, right);
        sum = Avx512F.FusedMultiplyAdd(w01, o0, sum);
        right = Avx512F.FusedMultiplyAdd(w22, e2, right);
        sum = Avx512F.FusedMultiplyAdd(w10, e1, sum);
        sum = Avx512F.FusedMultiplyAdd(w11, o1, sum);
        sum = Avx512F.FusedMultiplyAdd(w20, e2, sum);
        sum = Avx512F.FusedMultiplyAdd(w21, o2, sum);
        var done = pending + ColumnSums3x3.FromRight(right, previousRight);
        pending = sum;
        previousRight = right;
        return done;
    }

    /// <summary>The even and odd elements of the 32 columns from <paramref name="column"/> on (zeros past the row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(
        float* row, int column, int width, bool whole, Vector512<int> evenLanes, Vector512<int> oddLanes,
        out Vector512<float> even, out Vector512<float> odd)
    {
        Vector512<float> low, high;
        if (whole)
        {
            low = Vector512.Load(row + column);
            high = Vector512.Load(row + column + V);
        }
        else
        {
            low = RowLoads.Clipped.Load(row, column, width);
            high = RowLoads.Clipped.Load(row, column + V, width);
        }

        even = Avx512F.PermuteVar16x32x2(low, evenLanes, high);
        odd = Avx512F.PermuteVar16x32x2(low, oddLanes, high);
    }

    /// <summary>
    /// Sixteen outputs of one left-padded row from its three input rows split into even (columns 2x + 2i) and odd (2x + 2i + 1)
    /// elements: centre taps on the evens, right taps on the odds, left taps on the odds one lane to the left.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LeftPaddedRow(
        Vector512<float> e0, Vector512<float> o0, Vector512<float> e1, Vector512<float> o1, Vector512<float> e2, Vector512<float> o2,
        Vector512<float> w00, Vector512<float> w01, Vector512<float> w02,
        Vector512<float> w10, Vector512<float> w11, Vector512<float> w12,
        Vector512<float> w20, Vector512<float> w21, Vector512<float> w22,
        Vector512<float> bias, ref Vector512<float> previousLeft)
    {
        var left = w00 * o0;
        var sum = Avx512F.FusedMultiplyAdd(w01, e0, bias);
        left = Avx512F.FusedMultiplyAdd(w10, o1, left);
        sum = Avx512F.FusedMultiplyAdd(w02, o0, sum);
        left = Avx512F.FusedMultiplyAdd(w20, o2, left);
        sum = Avx512F.FusedMultiplyAdd(w11, e1, sum);
        sum = Avx512F.FusedMultiplyAdd(w12, o1, sum);
        sum = Avx512F.FusedMultiplyAdd(w21, e2, sum);
        sum = Avx512F.FusedMultiplyAdd(w22, o2, sum);
        var result = sum + ColumnSums3x3.FromLeft(left, previousLeft);
        previousLeft = left;
        return result;
    }
}
