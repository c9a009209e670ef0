using ConvService.Compute.Memory;
using ConvService.Compute.Simd;
using ConvService.Compute.Threading;

namespace ConvService.Compute.Kernels;

/// <summary>
/// Depthwise convolution (groups = input channels, depth multiplier M, output channel o reads input
/// channel o / M), output width in the vector lanes. Each input channel is laid out once as padded,
/// stride-phase-split rows, then every one of its M filters runs over it row by row.
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
    private readonly int paddedH;
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

        layout = StridedRowLayout.Create(g.InWidth, g.PadLeft, g.PadRight, g.OutWidth, g.KernelW, g.StrideW, g.DilationW, TOps.Count);
        tapOffsets = new PinnedArray<int>(g.KernelW);
        for (int kx = 0; kx < g.KernelW; kx++)
        {
            tapOffsets.Pointer[kx] = layout.TapOffset(kx, g.DilationW);
        }

        paddedH = g.InHeight + g.PadTop + g.PadBottom;
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
        using var plane = NativeBufferPool.Rent(((long)paddedH * layout.RowLength) + TOps.Count);
        using var tail = NativeBufferPool.Rent(TOps.Count);
        long inPlane = (long)g.InHeight * g.InWidth;
        long outPlane = (long)g.OutHeight * g.OutWidth;
        nint rowLength = layout.RowLength;
        for (long item = first; item < end; item++)
        {
            job.Token.ThrowIfCancellationRequested();
            float* source = job.Input + (item * inPlane);
            for (int y = 0; y < paddedH; y++)
            {
                int iy = y - g.PadTop;
                layout.Fill((uint)iy < (uint)g.InHeight ? source + ((long)iy * g.InWidth) : null, plane.Pointer + (y * rowLength));
            }

            int n = (int)(item / g.InChannels);
            int c = (int)(item % g.InChannels);
            for (int m = 0; m < multiplier; m++)
            {
                int o = (c * multiplier) + m;
                float* w = weights.Pointer + ((long)o * taps);
                float b = biases.Pointer[o];
                float* destination = job.Output + ((((long)n * g.OutChannels) + o) * outPlane);
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    DepthwiseRowKernel.Run<TOps, TVec>(
                        plane.Pointer + ((long)oy * g.StrideH * rowLength), g.DilationH * rowLength, tapOffsets.Pointer,
                        g.KernelH, g.KernelW, w, b, destination + ((long)oy * g.OutWidth), g.OutWidth, tail.Pointer);
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
