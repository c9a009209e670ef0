using ConvService.Compute.Memory;
using ConvService.Compute.Simd;
using ConvService.Compute.Threading;

namespace ConvService.Compute.Kernels;

/// <summary>
/// Depthwise convolution (groups = input channels, depth multiplier M, output channel o reads input
/// channel o / M), output width in the vector lanes. Input rows are laid out (padded, split into
/// stride phases) into a small ring that follows the output rows down the channel, so each input
/// row is read from memory once and the working set stays in L1/L2 whatever the image size; all M
/// filters of the channel run on each ring state. With vertical stride and dilation 1, output
/// rows are computed four at a time, sharing their input rows. At Vector512 the common geometries skip the
/// ring and run a direct kernel straight from the input rows: 3x3 with stride 1 (narrow rows walked as
/// one flat run of pixels) or 2, 5x5 and 7x7 with "same" padding; at Vector256, 3x3 with stride 1
/// (<see cref="Depthwise3x3Avx2Kernel"/>) and 5x5 and 7x7 with "same" padding (<see cref="Depthwise5x5And7x7Avx2Kernel"/>).
/// </summary>
internal sealed unsafe class DepthwiseConvolution<TOps, TVec> : IConvolutionKernel, IChannelRangeKernel
    where TOps : struct, IVectorOps<TVec>
    where TVec : unmanaged
{
    private readonly Conv2dGeometry g;
    private readonly int multiplier;
    private readonly int taps;
    private readonly PinnedArray<float> weights;

    /// <summary>The filters in the direct kernel's layout when one runs (<see cref="direct"/>), otherwise null.</summary>
    private readonly PinnedArray<float>? packedDirect;
    private readonly PinnedArray<float> biases;
    private readonly PinnedArray<int> tapOffsets;
    private readonly StridedRowLayout layout;
    private readonly int ringRows;
    private readonly bool rowGroups;
    /// <summary>
    /// The kernel that runs this geometry straight from the input rows, if any: an <see cref="IDirectDepthwiseKernel"/>,
    /// or <see cref="Depthwise3x3FlatAvx512Kernel"/> or <see cref="Depthwise3x3Avx2Kernel"/>, which walk whole row ranges rather than row groups.
    /// </summary>
    private readonly DirectKernel direct;
    private readonly DirectRowShape directShape;

    /// <summary>The row-edge table of <see cref="Depthwise3x3FlatAvx512Kernel"/> when it runs, otherwise null.</summary>
    private readonly PinnedArray<float>? flatEdgeMasks;
    private readonly JobPool jobs;

    /// <summary>Input plus output bytes beyond which a call streams its planes from memory (half this CPU's 32 MB L3).</summary>
    private const long StreamingBytes = 16L << 20;

    public DepthwiseConvolution(Conv2dGeometry geometry, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias)
    {
        g = geometry;
        multiplier = g.OutChannels / g.InChannels;
        taps = g.KernelH * g.KernelW;
        weights = new PinnedArray<float>(weight.Length);
        weight.CopyTo(weights.AsSpan());

        biases = new PinnedArray<float>(g.OutChannels);
        if (!bias.IsEmpty)
        {
            bias.CopyTo(biases.AsSpan());
        }

        rowGroups = g.StrideH == 1 && g.DilationH == 1;
        layout = StridedRowLayout.Create(g.InWidth, g.PadLeft, g.PadRight, g.OutWidth, g.KernelW, g.StrideW, g.DilationW, DepthwiseFourRowKernel.Vectors * TOps.Count);
        // A power of two, so the slot of padded row y is a mask rather than a division.
        ringRows = (int)System.Numerics.BitOperations.RoundUpToPowerOf2(
            (uint)(rowGroups ? g.KernelH + DepthwiseFourRowKernel.Rows - 1 : ((g.KernelH - 1) * g.DilationH) + 1));
        direct = typeof(TOps) == typeof(Vector512Ops) ? SelectAvx512(g)
            : typeof(TOps) == typeof(Vector256Ops) ? SelectAvx2(g)
            : DirectKernel.None;
        // Past half the L3 the planes come from memory on every call: prefetching the next group's rows then pays.
        long bytes = ((long)g.Batch * ((g.InChannels * (long)g.InHeight * g.InWidth) + (g.OutChannels * (long)g.OutHeight * g.OutWidth))) * sizeof(float);
        // Line-aligned chunks cost up to one extra partial chunk per row: measured a loss at width 224, a gain from 320 on.
        directShape = new DirectRowShape(g.InWidth, g.OutWidth, g.PadLeft, PrefetchNextRows: bytes > StreamingBytes, AlignedChunks: g.OutWidth >= 256);
        packedDirect = direct switch
        {
            DirectKernel.Depthwise3x3 => PackDirect<Depthwise3x3Avx512Kernel>(weight, ref ringRows),
            DirectKernel.Depthwise3x3Stride2EvenOdd => PackDirect<Depthwise3x3Stride2EvenOddAvx512Kernel>(weight, ref ringRows),
            DirectKernel.Depthwise3x3Stride2 => PackDirect<Depthwise3x3Stride2Avx512Kernel>(weight, ref ringRows),
            DirectKernel.Depthwise5x5 => PackDirect<Depthwise5x5Avx512Kernel>(weight, ref ringRows),
            DirectKernel.Depthwise7x7 => PackDirect<Depthwise7x7Avx512Kernel>(weight, ref ringRows),
            _ => null,
        };
        if (direct is DirectKernel.Depthwise5x5Avx2 or DirectKernel.Depthwise7x7Avx2 && Depthwise5x5And7x7Avx2Kernel.RowsShareCacheSets(g.InWidth))
        {
            long needed = ZeroRowFloats + Depthwise5x5And7x7Avx2Kernel.RingFloats(g.InWidth);
            while ((long)ringRows * layout.RowLength < needed)
            {
                ringRows *= 2;
            }
        }

        if (direct == DirectKernel.Depthwise3x3Flat)
        {
            flatEdgeMasks = new PinnedArray<float>(Depthwise3x3FlatAvx512Kernel.EdgePeriod(g.InWidth) * 2L * 16);
            Depthwise3x3FlatAvx512Kernel.FillEdgeMasks(g.InWidth, flatEdgeMasks.AsSpan());
        }

        tapOffsets = new PinnedArray<int>(g.KernelW);
        for (int kx = 0; kx < g.KernelW; kx++)
        {
            tapOffsets.Pointer[kx] = layout.TapOffset(kx, g.DilationW);
        }

        jobs = new JobPool(() => new ChannelRangeJob(this));
        // Says which kernel runs, so a caller comparing timings can tell a direct kernel from the general ring.
        Algorithm = direct switch
        {
            DirectKernel.Depthwise3x3Flat => "depthwise-3x3-flat-",
            DirectKernel.Depthwise3x3 or DirectKernel.Depthwise3x3Avx2 => "depthwise-3x3-",
            DirectKernel.Depthwise3x3Stride2EvenOdd or DirectKernel.Depthwise3x3Stride2 => "depthwise-3x3-stride2-",
            DirectKernel.Depthwise5x5 or DirectKernel.Depthwise5x5Avx2 => "depthwise-5x5-",
            DirectKernel.Depthwise7x7 or DirectKernel.Depthwise7x7Avx2 => "depthwise-7x7-",
            _ => "depthwise-",
        } + TOps.IsaName;
    }

    public string Algorithm { get; }

    /// <summary>Floats at the start of the ring that stay zero when a direct kernel uses the rest (its zero row), a whole number of lines.</summary>
    private int ZeroRowFloats => (g.InWidth + 15) & ~15;

    public long Multiplications => g.Multiplications;

    public void Execute(float* input, long inputLength, float* output, int maxThreads, CancellationToken cancellationToken)
    {
        int threads = (int)Math.Clamp(g.Multiplications / GemmConvolution<TOps, TVec>.MinWorkPerThread, 1, Math.Max(1, maxThreads));
        var blocks = RowBlocks.For((long)g.Batch * g.InChannels, g.OutHeight, threads);
        long items = (long)g.Batch * g.InChannels * blocks.BlocksPerPlane;
        int chunks = threads == 1 ? 1 : (int)Math.Min(items, threads * 8L);
        var job = (ChannelRangeJob)jobs.Rent();
        job.Set(input, output, items, chunks, blocks, cancellationToken);
        ComputePool.Shared.Run(job, chunks, threads);
    }

    /// <summary>Rents one chunk's scratch: the row ring (pads zeroed once), a spare output row, a tail and the pointer tables.</summary>
    internal Workspace RentWorkspace()
    {
        int v = TOps.Count;
        long ringFloats = (long)ringRows * layout.RowLength;
        long spare = g.OutWidth + (4L * v);
        long tail = 4L * v;
        long tables = (2L * ringRows) + (2L * (ringRows + DepthwiseFourRowKernel.Rows));
        var buffer = NativeBufferPool.Rent(ringFloats + spare + tail + tables + 64);
        new Span<float>(buffer.Pointer, (int)ringFloats).Clear();
        return new Workspace(buffer, ringFloats, spare, tail, ringRows);
    }

    /// <summary>
    /// Output rows [oyStart, oyEnd) of every filter of input channel <paramref name="c"/>: filter m
    /// writes row oy at <c>outputBase + m * outputPlane + (oy - oyStart) * OutWidth</c>.
    /// </summary>
    internal void RunRows(in Workspace ws, float* source, int c, int oyStart, int oyEnd, float* outputBase, long outputPlane, CancellationToken token)
    {
        switch (direct)
        {
            case DirectKernel.Depthwise3x3Flat:
                RunRowsFlat(source, c, oyStart, oyEnd, outputBase, outputPlane, token);
                return;
            case DirectKernel.Depthwise3x3:
                RunRowsDirect<Depthwise3x3Avx512Kernel>(ws, source, c, oyStart, oyEnd, outputBase, outputPlane, token);
                return;
            case DirectKernel.Depthwise3x3Avx2:
                RunRowsAvx2(ws, source, c, oyStart, oyEnd, outputBase, outputPlane, token);
                return;
            case DirectKernel.Depthwise5x5Avx2:
                RunRowsAvx2<Depthwise5x5And7x7Avx2Kernel.Size5>(ws, source, c, oyStart, oyEnd, outputBase, outputPlane, token);
                return;
            case DirectKernel.Depthwise7x7Avx2:
                RunRowsAvx2<Depthwise5x5And7x7Avx2Kernel.Size7>(ws, source, c, oyStart, oyEnd, outputBase, outputPlane, token);
                return;
            case DirectKernel.Depthwise3x3Stride2EvenOdd:
                RunRowsDirect<Depthwise3x3Stride2EvenOddAvx512Kernel>(ws, source, c, oyStart, oyEnd, outputBase, outputPlane, token);
                return;
            case DirectKernel.Depthwise3x3Stride2:
                RunRowsDirect<Depthwise3x3Stride2Avx512Kernel>(ws, source, c, oyStart, oyEnd, outputBase, outputPlane, token);
                return;
            case DirectKernel.Depthwise5x5:
                RunRowsDirect<Depthwise5x5Avx512Kernel>(ws, source, c, oyStart, oyEnd, outputBase, outputPlane, token);
                return;
            case DirectKernel.Depthwise7x7:
                RunRowsDirect<Depthwise7x7Avx512Kernel>(ws, source, c, oyStart, oyEnd, outputBase, outputPlane, token);
                return;
        }

        nint rowLength = layout.RowLength;
        int step = rowGroups ? DepthwiseFourRowKernel.Rows : 1;
        int rowsPerStep = rowGroups ? g.KernelH + DepthwiseFourRowKernel.Rows - 1 : g.KernelH;
        new Span<int>(ws.Tags, ringRows).Fill(-1);
        for (int oy = oyStart; oy < oyEnd; oy += step)
        {
            token.ThrowIfCancellationRequested();
            for (int r = 0; r < rowsPerStep; r++)
            {
                // Padded row y lives in ring slot y mod ringRows; the rows one step needs never collide.
                int y = (oy * g.StrideH) + (r * g.DilationH);
                int slot = y & (ringRows - 1);
                float* laidOut = ws.Ring + (slot * rowLength);
                if (ws.Tags[slot] != y)
                {
                    int iy = y - g.PadTop;
                    if (g.StrideW == 1 && (uint)iy < (uint)g.InHeight)
                    {
                        // Pads of a ring row are zero from the start and never written: copy the data only.
                        VectorCopy.Copy<TOps, TVec>(source + ((long)iy * g.InWidth), laidOut + g.PadLeft, g.InWidth);
                    }
                    else
                    {
                        layout.Fill((uint)iy < (uint)g.InHeight ? source + ((long)iy * g.InWidth) : null, laidOut, TOps.Count * 32);
                    }

                    ws.Tags[slot] = y;
                }

                ws.RowPointers[r] = laidOut;
            }

            for (int m = 0; m < multiplier; m++)
            {
                int o = (c * multiplier) + m;
                float* w = weights.Pointer + ((long)o * taps);
                float b = biases.Pointer[o];
                float* destination = outputBase + (m * outputPlane) + ((long)(oy - oyStart) * g.OutWidth);
                if (rowGroups)
                {
                    // Rows past the range's end go to a spare row that is never read.
                    for (int j = 0; j < DepthwiseFourRowKernel.Rows; j++)
                    {
                        ws.OutputRows[j] = oy + j < oyEnd ? destination + ((long)j * g.OutWidth) : ws.Spare;
                    }

                    DepthwiseFourRowKernel.Run<TOps, TVec>(
                        ws.RowPointers, tapOffsets.Pointer, g.KernelH, g.KernelW, w, b, ws.OutputRows, g.OutWidth, ws.Tail);
                }
                else
                {
                    DepthwiseRowKernel.Run<TOps, TVec>(
                        ws.RowPointers, tapOffsets.Pointer, g.KernelH, g.KernelW, w, b, destination, g.OutWidth, ws.Tail);
                }
            }
        }
    }

    /// <summary>The AVX-512 direct kernel for <paramref name="g"/>, if one fits (the flat 3x3 kernel first: it takes narrow rows the row kernel also fits).</summary>
    private static DirectKernel SelectAvx512(Conv2dGeometry g) =>
        Depthwise3x3FlatAvx512Kernel.IsSupported && Depthwise3x3FlatAvx512Kernel.Fits(g) ? DirectKernel.Depthwise3x3Flat
        : Fits<Depthwise3x3Avx512Kernel>(g) ? DirectKernel.Depthwise3x3
        : Fits<Depthwise3x3Stride2EvenOddAvx512Kernel>(g) ? DirectKernel.Depthwise3x3Stride2EvenOdd
        : Fits<Depthwise3x3Stride2Avx512Kernel>(g) ? DirectKernel.Depthwise3x3Stride2
        : Fits<Depthwise5x5Avx512Kernel>(g) ? DirectKernel.Depthwise5x5
        : Fits<Depthwise7x7Avx512Kernel>(g) ? DirectKernel.Depthwise7x7
        : DirectKernel.None;

    /// <summary>The AVX2 direct kernel for <paramref name="g"/>, if one fits.</summary>
    private static DirectKernel SelectAvx2(Conv2dGeometry g) =>
        Depthwise3x3Avx2Kernel.IsSupported && Depthwise3x3Avx2Kernel.Fits(g) ? DirectKernel.Depthwise3x3Avx2
        : Depthwise5x5And7x7Avx2Kernel.IsSupported && Depthwise5x5And7x7Avx2Kernel.Fits(g) ? (g.KernelH == 5 ? DirectKernel.Depthwise5x5Avx2 : DirectKernel.Depthwise7x7Avx2)
        : DirectKernel.None;

    private static bool Fits<TKernel>(Conv2dGeometry g)
        where TKernel : struct, IDirectDepthwiseKernel => TKernel.IsSupported && TKernel.Fits(g);

    /// <summary>The filters packed for a direct kernel; widens the row-pointer table (ringRows entries) to one group's input rows.</summary>
    private PinnedArray<float> PackDirect<TKernel>(ReadOnlySpan<float> weight, ref int rowTable)
        where TKernel : struct, IDirectDepthwiseKernel
    {
        rowTable = Math.Max(rowTable, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(TKernel.InputRows + PrefetchRows<TKernel>())));
        var packed = new PinnedArray<float>((long)g.OutChannels * TKernel.PackedTaps);
        for (int o = 0; o < g.OutChannels; o++)
        {
            TKernel.PackWeights(weight.Slice(o * taps, taps), packed.AsSpan().Slice(o * TKernel.PackedTaps, TKernel.PackedTaps));
        }

        return packed;
    }

    /// <summary>Rows below a group the kernel prefetches: none unless the planes stream (a longer table for every kernel slowed S3 by ~13%).</summary>
    private int PrefetchRows<TKernel>()
        where TKernel : struct, IDirectDepthwiseKernel => directShape.PrefetchNextRows ? TKernel.PrefetchRows : 0;

    /// <summary>Rows of a direct kernel's geometry straight from the input rows; the (zeroed, unused) ring serves as the zero row.</summary>
    private void RunRowsDirect<TKernel>(in Workspace ws, float* source, int c, int oyStart, int oyEnd, float* outputBase, long outputPlane, CancellationToken token)
        where TKernel : struct, IDirectDepthwiseKernel
    {
        float** rows = ws.RowPointers;
        var shape = directShape;
        float* weights = packedDirect!.Pointer;
        // Past the group's InputRows, the rows below it that the kernel prefetches (the rows the next group adds).
        int tableRows = TKernel.InputRows + PrefetchRows<TKernel>();
        for (int oy = oyStart; oy < oyEnd; oy += TKernel.Rows)
        {
            token.ThrowIfCancellationRequested();
            for (int r = 0; r < tableRows; r++)
            {
                int iy = (oy * TKernel.Stride) - g.PadTop + r;
                rows[r] = (uint)iy < (uint)g.InHeight ? source + ((long)iy * g.InWidth) : ws.Ring;
            }

            int count = Math.Min(TKernel.Rows, oyEnd - oy);
            for (int m = 0; m < multiplier; m++)
            {
                int o = (c * multiplier) + m;
                float* destination = outputBase + (m * outputPlane) + ((long)(oy - oyStart) * g.OutWidth);
                TKernel.Run(rows, weights + ((long)o * TKernel.PackedTaps), biases.Pointer[o], destination, shape, count);
            }
        }
    }

    /// <summary>Rows of a narrow 3x3 geometry, the plane walked as one flat run of pixels (the taps are used as they come).</summary>
    private void RunRowsFlat(float* source, int c, int oyStart, int oyEnd, float* outputBase, long outputPlane, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        for (int m = 0; m < multiplier; m++)
        {
            int o = (c * multiplier) + m;
            Depthwise3x3FlatAvx512Kernel.Run(
                source, g.InWidth, g.InHeight, oyStart, oyEnd, weights.Pointer + ((long)o * taps), biases.Pointer[o], outputBase + (m * outputPlane), flatEdgeMasks!.Pointer);
        }
    }

    /// <summary>Rows of a 3x3 stride-1 geometry at Vector256, each filter's whole range in one call; the (zeroed, unused) ring serves as the zero row.</summary>
    private void RunRowsAvx2(in Workspace ws, float* source, int c, int oyStart, int oyEnd, float* outputBase, long outputPlane, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        for (int m = 0; m < multiplier; m++)
        {
            int o = (c * multiplier) + m;
            Depthwise3x3Avx2Kernel.RunRows(
                source, g.InWidth, g.InHeight, g.PadTop, oyStart, oyEnd, weights.Pointer + ((long)o * taps), biases.Pointer[o], outputBase + (m * outputPlane), ws.Ring);
        }
    }

    /// <summary>Rows of a 5x5 or 7x7 "same" geometry at Vector256, each filter's whole range in one call; the (zeroed, unused) ring serves as the zero row.</summary>
    private void RunRowsAvx2<TSize>(in Workspace ws, float* source, int c, int oyStart, int oyEnd, float* outputBase, long outputPlane, CancellationToken token)
        where TSize : struct, Depthwise5x5And7x7Avx2Kernel.IFilterSize
    {
        token.ThrowIfCancellationRequested();
        for (int m = 0; m < multiplier; m++)
        {
            int o = (c * multiplier) + m;
            Depthwise5x5And7x7Avx2Kernel.RunRows<TSize>(
                source, g.InWidth, g.InHeight, g.PadTop, oyStart, oyEnd, weights.Pointer + ((long)o * taps), biases.Pointer[o], outputBase + (m * outputPlane), ws.Ring,
                Depthwise5x5And7x7Avx2Kernel.RowsShareCacheSets(g.InWidth) ? ws.Ring + ZeroRowFloats : null, directShape.PrefetchNextRows);
        }
    }

    public void RunChannels(ChannelRangeJob job, long first, long end)
    {
        using var ws = RentWorkspace();
        long inPlane = (long)g.InHeight * g.InWidth;
        long outPlane = (long)g.OutHeight * g.OutWidth;
        var blocks = job.Blocks;
        for (long item = first; item < end; item++)
        {
            long plane = item / blocks.BlocksPerPlane;
            int oyStart = (int)(item % blocks.BlocksPerPlane) * blocks.BlockRows;
            int oyEnd = Math.Min(g.OutHeight, oyStart + blocks.BlockRows);
            int n = (int)(plane / g.InChannels);
            int c = (int)(plane % g.InChannels);
            float* outputBase = job.Output + ((((long)n * g.OutChannels) + ((long)c * multiplier)) * outPlane) + ((long)oyStart * g.OutWidth);
            RunRows(ws, job.Input + (plane * inPlane), c, oyStart, oyEnd, outputBase, outPlane, job.Token);
        }
    }

    private enum DirectKernel
    {
        None,
        Depthwise3x3Flat,
        Depthwise3x3,
        Depthwise3x3Avx2,
        Depthwise3x3Stride2EvenOdd,
        Depthwise3x3Stride2,
        Depthwise5x5,
        Depthwise7x7,
        Depthwise5x5Avx2,
        Depthwise7x7Avx2,
    }

    /// <summary>One chunk's scratch carved from a single pooled buffer.</summary>
    internal readonly struct Workspace : IDisposable
    {
        private readonly PooledBuffer buffer;

        public Workspace(PooledBuffer buffer, long ringFloats, long spareFloats, long tailFloats, int ringRows)
        {
            this.buffer = buffer;
            Ring = buffer.Pointer;
            Spare = Ring + ringFloats;
            Tail = (float*)(((nint)(Spare + spareFloats) + 63) & ~(nint)63);
            Tags = (int*)(Tail + tailFloats);
            RowPointers = (float**)(Tags + (2 * ringRows));
            OutputRows = RowPointers + ringRows;
        }

        public float* Ring { get; }
        public float* Spare { get; }
        public float* Tail { get; }
        public int* Tags { get; }
        public float** RowPointers { get; }
        public float** OutputRows { get; }

        public void Dispose() => buffer.Dispose();
    }
}
