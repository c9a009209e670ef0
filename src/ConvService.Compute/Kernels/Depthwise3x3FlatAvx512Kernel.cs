using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// A 3x3 per-channel filter with stride 1, dilation 1 and one row and column of zero padding on every side, for
/// narrow images: the plane is walked as one flat run of pixels, sixteen at a time, whatever the row width, so a
/// row whose width is not a multiple of sixteen wastes no vector tail and no per-row set-up. It uses the column-sum
/// form (<see cref="ColumnSums3x3"/>) like <see cref="Depthwise3x3Avx512Kernel"/>; since a vector may span a row end,
/// a per-lane table of row edges puts the bias where the left neighbour is padding and drops the right sum where
/// the right neighbour is. Rows above and below the image read as zeros through masked loads.
/// </summary>
/// <remarks>
/// Rows of a multiple of sixteen pixels, and rows over 256, go to <see cref="Depthwise3x3Avx512Kernel"/>: it reads
/// each input row once per four output rows, this kernel three times, which costs more than the tails it saves
/// when there are none or they are a small part of the row, and more again when the input is not 64-byte aligned
/// (measured on Zen 4, 64 to 128 channels, aligned / 16 bytes off: 56 columns 0.094 → 0.074 / 0.085 ms,
/// 120 columns 0.152 → 0.136 / 0.150 ms, 14 columns 0.022 → 0.012 ms; but 112 columns 0.142 → 0.140 / 0.168 ms).
/// </remarks>
internal static unsafe class Depthwise3x3FlatAvx512Kernel
{
    /// <summary>The widest row this kernel takes.</summary>
    public const int MaxWidth = 256;

    private const int V = 16;

    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>The row kernel's geometries, also same-height (the plane is one run) and narrow with a vector tail.</summary>
    public static bool Fits(Conv2dGeometry g) =>
        Depthwise3x3Avx512Kernel.Fits(g) && g.PadTop == 1 && g.PadBottom == 1 && g.OutHeight == g.InHeight
        && g.InWidth % V != 0 && g.InWidth <= MaxWidth;

    /// <summary>Vectors after which the row-edge pattern repeats: <c>width / gcd(width, 16)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int EdgePeriod(int width) => width / (int)ulong.Min((ulong)(width & -width), V);

    /// <summary>
    /// The row-edge table for rows of <paramref name="width"/> pixels, <see cref="EdgePeriod"/> entries of two vectors:
    /// all ones in the lanes at column 0 (they take the bias, not a left sum), then all ones in the lanes not at the
    /// last column (they keep their right sum). Lane l of flat vector v is column <c>(16 v + l) mod width</c>.
    /// </summary>
    public static void FillEdgeMasks(int width, Span<float> masks)
    {
        var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(masks);
        int period = EdgePeriod(width);
        for (int v = 0; v < period; v++)
        {
            for (int lane = 0; lane < V; lane++)
            {
                int column = ((v * V) + lane) % width;
                bits[(v * 2 * V) + lane] = column == 0 ? uint.MaxValue : 0;
                bits[(v * 2 * V) + V + lane] = column == width - 1 ? 0 : uint.MaxValue;
            }
        }
    }

    /// <summary>
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of one filter over the
    /// <paramref name="width"/> x <paramref name="height"/> <paramref name="plane"/> (same size out), row rowStart
    /// written at <paramref name="destination"/>; <paramref name="weights"/>: the nine taps row-major;
    /// <paramref name="edgeMasks"/>: the table <see cref="FillEdgeMasks"/> wrote for this width.
    /// </summary>
    /// <remarks>Output vector v is finished one step late, when the right sums of vector v + 1 exist.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* plane, int width, int height, int rowStart, int rowEnd, float* weights, float bias, float* destination, float* edgeMasks)
    {
        // Everything that could be a call comes before the taps are loaded: a call would spill them for the whole loop.
        int period = EdgePeriod(width);
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
        int pixels = width * height;
        int start = rowStart * width;
        int end = rowEnd * width;

        // The previous vector's left and right sums and its output without the right part.
        Vector512<float> previousLeft = b, previousRight = default, previousPending = default;
        int edge = 0;
        int previousEdge = period - 1;
        int p = start;
        for (; p < end; p += V)
        {
            Vector512<float> top, middle, bottom;
            if (p >= width && p + width + V <= pixels)
            {
                top = Vector512.Load(plane + p - width);
                middle = Vector512.Load(plane + p);
                bottom = Vector512.Load(plane + p + width);
            }
            else
            {
                // The first and last rows: pixels outside the plane are the zero rows of the padding.
                top = RowLoads.Clipped.Load(plane, p - width, pixels);
                middle = RowLoads.Clipped.Load(plane, p, pixels);
                bottom = RowLoads.Clipped.Load(plane, p + width, pixels);
            }

            // The bias alone where the pixel starts a row (its left neighbour is padding).
            ColumnSums3x3.LeftAndRight(top, middle, bottom, w00, w02, w10, w12, w20, w22, b, out var left, out var right);
            var fromLeft = Vector512.ConditionalSelect(Vector512.Load(edgeMasks + (edge * 2 * V)), b, ColumnSums3x3.FromLeft(left, previousLeft));
            var pending = ColumnSums3x3.AddCentre(fromLeft, top, middle, bottom, w01, w11, w21);

            if (p > start)
            {
                // Nothing from the right where the previous vector's pixel ends a row.
                var fromRight = ColumnSums3x3.FromRight(right, previousRight) & Vector512.Load(edgeMasks + (previousEdge * 2 * V) + V);
                (previousPending + fromRight).Store(destination + (p - V - start));
            }

            previousLeft = left;
            previousRight = right;
            previousPending = pending;
            previousEdge = edge;
            edge = edge + 1 == period ? 0 : edge + 1;
        }

        // The last vector (at p - V, up to the range's end) ends a row, so its last pixel takes no right sum.
        var lastRight = ColumnSums3x3.FromRight(Vector512<float>.Zero, previousRight);
        var last = previousPending + (lastRight & Vector512.Load(edgeMasks + (previousEdge * 2 * V) + V));
        Avx512F.MaskStore(destination + (p - V - start), RowLoads.ColumnMask(p - V, end), last);
    }
}
