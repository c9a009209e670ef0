using ConvService.Compute.Memory;
using ConvService.Compute.Simd;
using ConvService.Compute.Threading;

namespace ConvService.Compute.Kernels;

/// <summary>
/// Depthwise-separable convolution in bands of output rows: the depthwise stage writes a band of
/// every intermediate channel into a buffer sized to stay in L2, and the pointwise GEMM consumes
/// it at once, so the intermediate tensor never goes out to memory and bands run in parallel.
/// </summary>
internal sealed unsafe class FusedDepthwisePointwise<TOps, TVec> : IConvolutionKernel
    where TOps : struct, IVectorOps<TVec>
    where TVec : unmanaged
{
    /// <summary>Target size of one band of the intermediate tensor.</summary>
    private const long BandBytes = 256 * 1024;

    private readonly DepthwiseSeparableGeometry g;
    private readonly DepthwiseConvolution<TOps, TVec> depthwise;
    private readonly GemmConvolution<TOps, TVec> bandPointwise;
    private readonly GemmConvolution<TOps, TVec>? lastBandPointwise;
    private readonly int bandRows;
    private readonly int bands;
    private readonly JobPool jobs;

    private FusedDepthwisePointwise(
        DepthwiseSeparableGeometry geometry, DepthwiseConvolution<TOps, TVec> depthwise, ReadOnlySpan<float> pointwiseWeight, ReadOnlySpan<float> pointwiseBias, int bandRows)
    {
        g = geometry;
        this.depthwise = depthwise;
        this.bandRows = bandRows;
        int outH = g.Depthwise.OutHeight;
        bands = (outH + bandRows - 1) / bandRows;
        bandPointwise = new GemmConvolution<TOps, TVec>(BandGeometry(bandRows), pointwiseWeight, pointwiseBias);
        int lastRows = outH - ((bands - 1) * bandRows);
        if (lastRows != bandRows)
        {
            lastBandPointwise = new GemmConvolution<TOps, TVec>(BandGeometry(lastRows), pointwiseWeight, pointwiseBias);
        }

        jobs = new JobPool(() => new Job(this));
        Algorithm = "fused-depthwise-pointwise-" + TOps.IsaName;
    }

    public string Algorithm { get; }

    public long Multiplications => g.Multiplications;

    /// <summary>The fused form when it pays (an intermediate larger than a band), else null.</summary>
    public static FusedDepthwisePointwise<TOps, TVec>? TryCreate(
        DepthwiseSeparableGeometry g, IConvolutionKernel depthwiseStage, ReadOnlySpan<float> pointwiseWeight, ReadOnlySpan<float> pointwiseBias)
    {
        if (depthwiseStage is not DepthwiseConvolution<TOps, TVec> depthwise)
        {
            return null; // e.g. a rank-1 depthwise stage, which has its own pass structure
        }

        long rowBytes = (long)g.Depthwise.OutChannels * g.Depthwise.OutWidth * sizeof(float);
        int rows = (int)Math.Max(4, BandBytes / rowBytes / 4 * 4);

        // Up to half a band more, take the row count whose positions fill the GEMM's register tiles best
        // (the tallest of equals: fewer bands re-read the pointwise weights less often).
        double bestCost = double.MaxValue;
        for (int r = (int)Math.Max(rows, BandBytes * 3 / 2 / rowBytes / 4 * 4); r >= 4; r -= 4)
        {
            double cost = GemmConvolution<TOps, TVec>.PointwiseWorkPerPosition((long)r * g.Depthwise.OutWidth, g.Pointwise.OutChannels);
            if (cost < bestCost * 0.995)
            {
                (rows, bestCost) = (r, cost);
            }
        }

        if (rows >= g.Depthwise.OutHeight || rowBytes * g.Depthwise.OutHeight < 2 * BandBytes)
        {
            return null;
        }

        var fused = new FusedDepthwisePointwise<TOps, TVec>(g, depthwise, pointwiseWeight, pointwiseBias, rows);
        return fused.bandPointwise.ReadsSourceInPlace && (fused.lastBandPointwise?.ReadsSourceInPlace ?? true) ? fused : null;
    }

    public void Execute(float* input, long inputLength, float* output, int maxThreads, CancellationToken cancellationToken)
    {
        long items = (long)g.Depthwise.Batch * bands;
        int threads = (int)Math.Clamp(g.Multiplications / GemmConvolution<TOps, TVec>.MinWorkPerThread, 1, Math.Max(1, Math.Min(maxThreads, items)));
        int chunks = threads == 1 ? 1 : (int)Math.Min(items, threads * 4L);
        var job = (Job)jobs.Rent();
        job.Set(input, output, items, chunks, cancellationToken);
        ComputePool.Shared.Run(job, chunks, threads);
    }

    private Conv2dGeometry BandGeometry(int rows) =>
        g.Pointwise with { Batch = 1, InHeight = rows, OutHeight = rows, InputIsRank3 = false };

    private void RunBands(Job job, long first, long end)
    {
        var dw = g.Depthwise;
        long bandPlane = (long)bandRows * dw.OutWidth;
        long bandFloats = (dw.OutChannels * bandPlane) + 256;
        using var workspace = depthwise.RentWorkspace();
        using var band = NativeBufferPool.Rent(bandFloats);
        using var pack = NativeBufferPool.Rent(Math.Max(bandPointwise.PackFloats, lastBandPointwise?.PackFloats ?? 0));
        using var tile = NativeBufferPool.Rent(Math.Max(bandPointwise.TileFloats, lastBandPointwise?.TileFloats ?? 0));
        long inPlane = (long)dw.InHeight * dw.InWidth;
        long outPlane = (long)g.Pointwise.OutHeight * g.Pointwise.OutWidth;
        int multiplier = g.DepthMultiplier;
        for (long item = first; item < end; item++)
        {
            int n = (int)(item / bands);
            int oy0 = (int)(item % bands) * bandRows;
            int rows = Math.Min(bandRows, dw.OutHeight - oy0);
            long plane = (long)rows * dw.OutWidth;
            for (int c = 0; c < dw.InChannels; c++)
            {
                float* source = job.Input + ((((long)n * dw.InChannels) + c) * inPlane);
                depthwise.RunRows(workspace, source, c, oy0, oy0 + rows, band.Pointer + ((long)c * multiplier * plane), plane, job.Token);
            }

            var pointwise = rows == bandRows ? bandPointwise : lastBandPointwise!;
            float* imageOutput = job.Output + ((long)n * g.Pointwise.OutChannels * outPlane);
            pointwise.RunInto(band.Pointer, bandFloats, imageOutput, outPlane, (long)oy0 * dw.OutWidth, pack.Pointer, tile.Pointer);
        }
    }

    private sealed class Job(FusedDepthwisePointwise<TOps, TVec> owner) : ParallelJob
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
            owner.RunBands(this, items * chunk / chunks, items * (chunk + 1) / chunks);

        protected override void Clear()
        {
            Input = Output = null;
            Token = default;
        }
    }
}
