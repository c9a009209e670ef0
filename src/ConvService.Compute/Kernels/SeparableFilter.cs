using System.Runtime.Intrinsics;
using ConvService.Compute.Memory;
using ConvService.Compute.Simd;
using ConvService.Compute.Threading;

namespace ConvService.Compute.Kernels;

/// <summary>
/// A per-channel filter whose Kh x Kw kernel is the outer product column ⊗ row, run as a column
/// pass (Kh taps down the input, into one laid-out row kept in L1) then a row pass (Kw taps along
/// it): Kh + Kw multiplications per output instead of Kh * Kw. Serves spatially separable
/// requests (one column/row pair for all channels) and rank-1 kernels the planner detected in
/// depthwise convolutions (one pair per output channel; output channel o reads input o / M).
/// </summary>
internal sealed unsafe class SeparableFilter<TOps, TVec> : IConvolutionKernel, IChannelRangeKernel
    where TOps : struct, IVectorOps<TVec>
    where TVec : unmanaged
{
    private readonly Conv2dGeometry g;
    private readonly int multiplier;
    private readonly int pairs;
    private readonly PinnedArray<float> columns;
    private readonly PinnedArray<float> rows;
    private readonly PinnedArray<float> biases;
    private readonly PinnedArray<int> tapOffsets;
    private readonly StridedRowLayout layout;
    private readonly bool permuteRowPass;
    private readonly PinnedArray<Vector512<int>>? shiftIndices;
    private readonly JobPool jobs;

    /// <param name="column">Kh taps per pair; <paramref name="pairCount"/> pairs (1 = shared by all channels, else one per output channel).</param>
    public SeparableFilter(Conv2dGeometry geometry, ReadOnlySpan<float> column, ReadOnlySpan<float> row, ReadOnlySpan<float> bias, int pairCount, string algorithmPrefix)
    {
        g = geometry;
        multiplier = g.OutChannels / g.InChannels;
        pairs = pairCount;
        columns = new PinnedArray<float>(column.Length);
        column.CopyTo(columns.AsSpan());
        rows = new PinnedArray<float>(row.Length);
        row.CopyTo(rows.AsSpan());
        biases = new PinnedArray<float>(g.OutChannels);
        if (!bias.IsEmpty)
        {
            bias.CopyTo(biases.AsSpan());
        }

        permuteRowPass = TOps.Count == 16 && RowPassKernel512.Supports(g);
        layout = permuteRowPass
            ? StridedRowLayout.Create(g.InWidth, g.PadLeft, g.PadRight, ((g.OutWidth + 63) & ~63) + 16, 1, 1, 1, 16)
            : StridedRowLayout.Create(g.InWidth, g.PadLeft, g.PadRight, g.OutWidth, g.KernelW, g.StrideW, g.DilationW, 4 * TOps.Count);
        if (permuteRowPass)
        {
            shiftIndices = new PinnedArray<Vector512<int>>(g.KernelW);
            for (int j = 0; j < g.KernelW; j++)
            {
                shiftIndices.Pointer[j] = RowPassKernel512.ShiftIndex(j);
            }
        }
        tapOffsets = new PinnedArray<int>(g.KernelW);
        for (int kx = 0; kx < g.KernelW; kx++)
        {
            tapOffsets.Pointer[kx] = layout.TapOffset(kx, g.DilationW);
        }

        jobs = new JobPool(() => new ChannelRangeJob(this));
        Algorithm = algorithmPrefix + TOps.IsaName;
    }

    public string Algorithm { get; }

    public long Multiplications => g.OutputElements * (g.KernelH + (long)g.KernelW);

    public void Execute(float* input, long inputLength, float* output, int maxThreads, CancellationToken cancellationToken)
    {
        int threads = (int)Math.Clamp(Multiplications / GemmConvolution<TOps, TVec>.MinWorkPerThread, 1, Math.Max(1, maxThreads));
        var blocks = RowBlocks.For((long)g.Batch * g.OutChannels, g.OutHeight, threads);
        long items = (long)g.Batch * g.OutChannels * blocks.BlocksPerPlane;
        int chunks = threads == 1 ? 1 : (int)Math.Min(items, threads * 8L);
        var job = (ChannelRangeJob)jobs.Rent();
        job.Set(input, output, items, chunks, blocks, cancellationToken);
        ComputePool.Shared.Run(job, chunks, threads);
    }

    public void RunChannels(ChannelRangeJob job, long first, long end)
    {
        int v = TOps.Count;
        using var laidOut = NativeBufferPool.Rent(layout.RowLength + v);
        using var linear = NativeBufferPool.Rent(g.InWidth + v);
        using var tapRows = NativeBufferPool.Rent(2L * g.KernelH);
        using var tapWeights = NativeBufferPool.Rent(g.KernelH);
        using var tail = NativeBufferPool.Rent(64);
        float** rowPointers = (float**)tapRows.Pointer;
        float* laidOutRow = laidOut.Pointer;
        long inPlane = (long)g.InHeight * g.InWidth;
        long outPlane = (long)g.OutHeight * g.OutWidth;
        bool unitStride = g.StrideW == 1;
        new Span<float>(laidOutRow, layout.RowLength + v).Clear();
        var blocks = job.Blocks;
        for (long item = first; item < end; item++)
        {
            job.Token.ThrowIfCancellationRequested();
            long plane = item / blocks.BlocksPerPlane;
            int oyStart = (int)(item % blocks.BlocksPerPlane) * blocks.BlockRows;
            int oyEnd = Math.Min(g.OutHeight, oyStart + blocks.BlockRows);
            int n = (int)(plane / g.OutChannels);
            int o = (int)(plane % g.OutChannels);
            int pair = pairs == 1 ? 0 : o;
            float* column = columns.Pointer + ((long)pair * g.KernelH);
            float* row = rows.Pointer + ((long)pair * g.KernelW);
            float* source = job.Input + ((((long)n * g.InChannels) + (o / multiplier)) * inPlane);
            float* destination = job.Output + (plane * outPlane);
            for (int oy = oyStart; oy < oyEnd; oy++)
            {
                int count = 0;
                for (int i = 0; i < g.KernelH; i++)
                {
                    int iy = (oy * g.StrideH) - g.PadTop + (i * g.DilationH);
                    if ((uint)iy < (uint)g.InHeight)
                    {
                        rowPointers[count] = source + ((long)iy * g.InWidth);
                        tapWeights.Pointer[count] = column[i];
                        count++;
                    }
                }

                if (unitStride)
                {
                    // Pads of the laid-out row stay zero: only [PadLeft, PadLeft + width) is ever written.
                    ColumnPassKernel.Run<TOps, TVec>(rowPointers, tapWeights.Pointer, count, laidOutRow + g.PadLeft, g.InWidth);
                }
                else
                {
                    ColumnPassKernel.Run<TOps, TVec>(rowPointers, tapWeights.Pointer, count, linear.Pointer, g.InWidth);
                    layout.Fill(linear.Pointer, laidOutRow, TOps.Count * 32);
                }

                if (permuteRowPass)
                {
                    RowPassKernel512.Run(laidOutRow, shiftIndices!.Pointer, row, g.KernelW, biases.Pointer[o], destination + ((long)oy * g.OutWidth), g.OutWidth, tail.Pointer);
                }
                else
                {
                    DepthwiseRowKernel.Run<TOps, TVec>(
                        &laidOutRow, tapOffsets.Pointer, 1, g.KernelW, row, biases.Pointer[o], destination + ((long)oy * g.OutWidth), g.OutWidth, tail.Pointer);
                }
            }
        }
    }
}
