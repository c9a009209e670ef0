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
/// rows are computed four at a time, sharing their input rows.
/// </summary>
internal sealed unsafe class DepthwiseConvolution<TOps, TVec> : IConvolutionKernel
    where TOps : struct, IVectorOps<TVec>
    where TVec : unmanaged
{
    private readonly Conv2dGeometry g;
    private readonly int multiplier;
    private readonly int taps;
    private readonly PinnedArray<float> weights;
    private readonly PinnedArray<float> biases;
    private readonly PinnedArray<int> tapOffsets;
    private readonly StridedRowLayout layout;
    private readonly int ringRows;
    private readonly bool rowGroups;
    private readonly JobPool jobs;

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
        ringRows = rowGroups ? g.KernelH + DepthwiseFourRowKernel.Rows - 1 : ((g.KernelH - 1) * g.DilationH) + 1;
        tapOffsets = new PinnedArray<int>(g.KernelW);
        for (int kx = 0; kx < g.KernelW; kx++)
        {
            tapOffsets.Pointer[kx] = layout.TapOffset(kx, g.DilationW);
        }

        jobs = new JobPool(() => new Job(this));
        Algorithm = "depthwise-" + TOps.IsaName;
    }

    public string Algorithm { get; }

    public long Multiplications => g.Multiplications;

    public void Execute(float* input, long inputLength, float* output, int maxThreads, CancellationToken cancellationToken)
    {
        long items = (long)g.Batch * g.InChannels;
        int threads = (int)Math.Clamp(g.Multiplications / GemmConvolution<TOps, TVec>.MinWorkPerThread, 1, Math.Max(1, maxThreads));
        int chunks = threads == 1 ? 1 : (int)Math.Min(items, threads * 8L);
        var job = (Job)jobs.Rent();
        job.Set(input, output, items, chunks, cancellationToken);
        ComputePool.Shared.Run(job, chunks, threads);
    }

    private void RunChannels(Job job, long first, long end)
    {
        int v = TOps.Count;
        nint rowLength = layout.RowLength;
        using var ring = NativeBufferPool.Rent(((long)ringRows * rowLength) + (2 * v));
        using var spareRows = NativeBufferPool.Rent(g.OutWidth + (2L * v));
        using var tail = NativeBufferPool.Rent((long)DepthwiseFourRowKernel.Vectors * v);
        using var scratch = NativeBufferPool.Rent((2L * ringRows) + (2L * (ringRows + DepthwiseFourRowKernel.Rows)));
        int* tags = (int*)scratch.Pointer;
        float** rowPointers = (float**)(scratch.Pointer + (2L * ringRows));
        float** outputRows = rowPointers + ringRows;
        long inPlane = (long)g.InHeight * g.InWidth;
        long outPlane = (long)g.OutHeight * g.OutWidth;
        new Span<float>(ring.Pointer, (int)(ringRows * rowLength)).Clear();
        int step = rowGroups ? DepthwiseFourRowKernel.Rows : 1;
        int rowsPerStep = rowGroups ? g.KernelH + DepthwiseFourRowKernel.Rows - 1 : g.KernelH;
        for (long item = first; item < end; item++)
        {
            float* source = job.Input + (item * inPlane);
            int n = (int)(item / g.InChannels);
            int c = (int)(item % g.InChannels);
            new Span<int>(tags, ringRows).Fill(-1);
            for (int oy = 0; oy < g.OutHeight; oy += step)
            {
                job.Token.ThrowIfCancellationRequested();
                for (int r = 0; r < rowsPerStep; r++)
                {
                    // Padded row y lives in ring slot y % ringRows; the rows one step needs never collide.
                    int y = (oy * g.StrideH) + (r * g.DilationH);
                    int slot = y % ringRows;
                    float* laidOut = ring.Pointer + (slot * rowLength);
                    if (tags[slot] != y)
                    {
                        int iy = y - g.PadTop;
                        if (g.StrideW == 1 && (uint)iy < (uint)g.InHeight)
                        {
                            // Pads of a ring row are zero from the start and never written: copy the data only.
                            VectorCopy.Copy<TOps, TVec>(source + ((long)iy * g.InWidth), laidOut + g.PadLeft, g.InWidth);
                        }
                        else
                        {
                            layout.Fill((uint)iy < (uint)g.InHeight ? source + ((long)iy * g.InWidth) : null, laidOut);
                        }

                        tags[slot] = y;
                    }

                    rowPointers[r] = laidOut;
                }

                for (int m = 0; m < multiplier; m++)
                {
                    int o = (c * multiplier) + m;
                    float* w = weights.Pointer + ((long)o * taps);
                    float b = biases.Pointer[o];
                    float* destination = job.Output + ((((long)n * g.OutChannels) + o) * outPlane) + ((long)oy * g.OutWidth);
                    if (rowGroups)
                    {
                        // Rows past the output's end go to a spare row that is never read.
                        for (int j = 0; j < DepthwiseFourRowKernel.Rows; j++)
                        {
                            outputRows[j] = oy + j < g.OutHeight ? destination + ((long)j * g.OutWidth) : spareRows.Pointer;
                        }

                        DepthwiseFourRowKernel.Run<TOps, TVec>(
                            rowPointers, tapOffsets.Pointer, g.KernelH, g.KernelW, w, b, outputRows, g.OutWidth, tail.Pointer);
                    }
                    else
                    {
                        DepthwiseRowKernel.Run<TOps, TVec>(
                            rowPointers, tapOffsets.Pointer, g.KernelH, g.KernelW, w, b, destination, g.OutWidth, tail.Pointer);
                    }
                }
            }
        }
    }

    private sealed class Job(DepthwiseConvolution<TOps, TVec> owner) : ParallelJob
    {
        private long items;
        private int chunks;

        public float* Input { get; private set; }
        public float* Output { get; private set; }
        public CancellationToken Token { get; private set; }

        public void Set(float* input, float* output, long itemCount, int chunkCount, CancellationToken token)
        {
            Input = input;
            Output = output;
            items = itemCount;
            chunks = chunkCount;
            Token = token;
        }

        protected override void RunChunk(int chunk) =>
            owner.RunChannels(this, items * chunk / chunks, items * (chunk + 1) / chunks);

        protected override void Clear()
        {
            Input = Output = null;
            Token = default;
        }
    }
}
