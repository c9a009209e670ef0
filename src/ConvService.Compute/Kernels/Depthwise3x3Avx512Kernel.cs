using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// Four output rows of a 3x3 per-channel filter with stride 1, dilation 1 and one column of zero padding on
/// each side, computed straight from the input rows (no padded copy), one vector of sixteen columns at a time,
/// in the column-sum form (<see cref="ColumnSums3x3"/>): the left and right sums are shifted into place with
/// <c>valignd</c> against the previous vector's sums, so two shuffles per output vector instead of one per shifted
/// input, one load per input row and vector, and no border cases (the sums left of column 0 are the bias alone,
/// right of the last column zero). The nine weights stay in registers.
/// Rows above or below the image point at a zero row.
/// </summary>
internal readonly unsafe struct Depthwise3x3Avx512Kernel : IDirectDepthwiseKernel
{
    public const int Rows = 4;

    /// <summary>Input rows one group reads.</summary>
    public const int InputRows = Rows + 2;

    private const int V = 16;

    public static int Size => 3;

    static int IDirectDepthwiseKernel.Rows => Rows;

    static int IDirectDepthwiseKernel.InputRows => InputRows;

    /// <summary>The nine taps as they come (row-major): this kernel keeps them in registers.</summary>
    public static int PackedTaps => 9;

    public static int Stride => 1;

    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>
    /// Same-width outputs: one column of padding on each side (rows above and below may differ). The width is checked
    /// too: a strided geometry with a single output column has its stride recorded as 1.
    /// </summary>
    public static bool Fits(Conv2dGeometry g) =>
        g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.PadLeft == 1 && g.PadRight == 1 && g.OutWidth == g.InWidth;

    public static void PackWeights(ReadOnlySpan<float> taps, Span<float> packed) => taps[..9].CopyTo(packed);

    /// <summary>
    /// <paramref name="rows"/>: the six input rows (zero rows outside the image) of output rows
    /// <c>0 .. 3</c>; output row j goes to <c>destination + j * shape.OutWidth</c> for j &lt; <paramref name="rowCount"/>
    /// (same width as the input).
    /// </summary>
    /// <remarks>
    /// Output vector v is finished one step late, when the right sums of vector v + 1 exist. Never inlined, so
    /// the JIT compiles it on its own with its whole register budget (inlined into its caller it spilled).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Run(float** rows, float* weights, float bias, float* destination, DirectRowShape shape, int rowCount)
    {
        int width = shape.OutWidth;
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
        float* in0 = rows[0], in1 = rows[1], in2 = rows[2], in3 = rows[3], in4 = rows[4], in5 = rows[5];

        // Per output row: the previous vector's left and right column sums and its output without the right
        // part. The left sums carry the bias, so the "previous vector" of column 0 is the bias alone.
        Vector512<float> left0 = b, left1 = b, left2 = b, left3 = b;
        Vector512<float> right0 = default, right1 = default, right2 = default, right3 = default;
        Vector512<float> pending0 = default, pending1 = default, pending2 = default, pending3 = default;

        int x = 0;
        for (; x < width; x += V)
        {
            Vector512<float> i0, i1, i2, i3, i4, i5;
            if (x + V <= width)
            {
                i0 = Vector512.Load(in0 + x);
                i1 = Vector512.Load(in1 + x);
                i2 = Vector512.Load(in2 + x);
                i3 = Vector512.Load(in3 + x);
                i4 = Vector512.Load(in4 + x);
                i5 = Vector512.Load(in5 + x);
            }
            else
            {
                // A partial last vector: columns past the row read as zero padding.
                var mask = RowLoads.ColumnMask(x, width);
                i0 = Avx512F.MaskLoad(in0 + x, mask, Vector512<float>.Zero);
                i1 = Avx512F.MaskLoad(in1 + x, mask, Vector512<float>.Zero);
                i2 = Avx512F.MaskLoad(in2 + x, mask, Vector512<float>.Zero);
                i3 = Avx512F.MaskLoad(in3 + x, mask, Vector512<float>.Zero);
                i4 = Avx512F.MaskLoad(in4 + x, mask, Vector512<float>.Zero);
                i5 = Avx512F.MaskLoad(in5 + x, mask, Vector512<float>.Zero);
            }

            var o0 = Step(i0, i1, i2, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, ref left0, ref right0, ref pending0);
            var o1 = Step(i1, i2, i3, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, ref left1, ref right1, ref pending1);
            var o2 = Step(i2, i3, i4, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, ref left2, ref right2, ref pending2);
            var o3 = Step(i3, i4, i5, w00, w01, w02, w10, w11, w12, w20, w21, w22, b, ref left3, ref right3, ref pending3);
            if (x > 0)
            {
                StoreRows(destination + x - V, width, rowCount, o0, o1, o2, o3);
            }
        }

        // The last vector (at x - V) is finished against the zero padding column to its right.
        var last0 = Finish(pending0, right0);
        var last1 = Finish(pending1, right1);
        var last2 = Finish(pending2, right2);
        var last3 = Finish(pending3, right3);
        var lastMask = RowLoads.ColumnMask(x - V, width);
        float* d = destination + x - V;
        Avx512F.MaskStore(d, lastMask, last0);
        if (rowCount > 1)
        {
            Avx512F.MaskStore(d + width, lastMask, last1);
        }

        if (rowCount > 2)
        {
            Avx512F.MaskStore(d + (2 * width), lastMask, last2);
        }

        if (rowCount > 3)
        {
            Avx512F.MaskStore(d + (3 * width), lastMask, last3);
        }
    }

    /// <summary>
    /// One output row at the current vector from its three input rows <paramref name="top"/>, <paramref name="middle"/>
    /// and <paramref name="bottom"/>: returns the previous vector's finished output and leaves this vector's sums
    /// and its output without the right part in the carried state.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(
        Vector512<float> top, Vector512<float> middle, Vector512<float> bottom,
        Vector512<float> w00, Vector512<float> w01, Vector512<float> w02,
        Vector512<float> w10, Vector512<float> w11, Vector512<float> w12,
        Vector512<float> w20, Vector512<float> w21, Vector512<float> w22,
        Vector512<float> bias,
        ref Vector512<float> previousLeft, ref Vector512<float> previousRight, ref Vector512<float> previousPending)
    {
        ColumnSums3x3.LeftAndRight(top, middle, bottom, w00, w02, w10, w12, w20, w22, bias, out var left, out var right);
        var pending = ColumnSums3x3.AddCentre(ColumnSums3x3.FromLeft(left, previousLeft), top, middle, bottom, w01, w11, w21);

        // The previous vector's right neighbours complete its output.
        var finished = previousPending + ColumnSums3x3.FromRight(right, previousRight);
        previousLeft = left;
        previousRight = right;
        previousPending = pending;
        return finished;
    }

    /// <summary>The previous vector's output when the columns to its right are zero padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Finish(Vector512<float> previousPending, Vector512<float> previousRight) =>
        previousPending + ColumnSums3x3.FromRight(Vector512<float>.Zero, previousRight);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows(float* d, int width, int rowCount, Vector512<float> o0, Vector512<float> o1, Vector512<float> o2, Vector512<float> o3)
    {
        o0.Store(d);
        if (rowCount > 1)
        {
            o1.Store(d + width);
        }

        if (rowCount > 2)
        {
            o2.Store(d + (2 * width));
        }

        if (rowCount > 3)
        {
            o3.Store(d + (3 * width));
        }
    }
}
