using ConvService.Compute.Memory;
using ConvService.Compute.Simd;
using ConvService.Compute.Threading;

namespace ConvService.Compute.Kernels;

/// <summary>
/// Depthwise-separable convolution in bands of output rows: the depthwise stage writes a band of
/// every intermediate channel into a buffer sized to stay in L2, and the pointwise GEMM consumes
/// it at once, so the intermediate tensor never goes out to memory and bands run in parallel.
/// With several threads the rows left after the last full round of bands are cut into one piece
/// per thread, so the threads finish together (S8, 56 rows in bands of 12, at 2 threads: bands
/// 12+12+8 against 12+12 rows became 12+12+4 against 12+12+4).
/// </summary>
internal sealed unsafe class FusedDepthwisePointwise<TOps, TVec> : IConvolutionKernel
    where TOps : struct, IVectorOps<TVec>
    where TVec : unmanaged
{
    /// <summary>Target size of one band of the intermediate tensor.</summary>
    private const long BandBytes = 256 * 1024;

    /// <summary>Thread counts beyond this share its schedule (each may add two small pointwise plans sharing the packed weights).</summary>
    private const int MaxScheduledThreads = 16;

    private readonly DepthwiseSeparableGeometry g;
    private readonly DepthwiseConvolution<TOps, TVec> depthwise;
    private readonly Dictionary<int, GemmConvolution<TOps, TVec>> pointwiseByRows = [];
    private readonly BandSchedule[] schedules;
    private readonly int bandRows;
    private readonly long packFloats;
    private readonly long tileFloats;
    private readonly JobPool jobs;

    private FusedDepthwisePointwise(
        DepthwiseSeparableGeometry geometry, DepthwiseConvolution<TOps, TVec> depthwise, ReadOnlySpan<float> pointwiseWeight, ReadOnlySpan<float> pointwiseBias, int bandRows)
    {
        g = geometry;
        this.depthwise = depthwise;
        this.bandRows = bandRows;
        int outH = g.Depthwise.OutHeight;
        var packedByTileRows = new Dictionary<int, (PinnedArray<float> Weights, PinnedArray<float> Bias)>();
        schedules = new BandSchedule[Math.Clamp(ComputePool.Shared.HelperCount + 1, 1, MaxScheduledThreads)];
        var uniform = BandSchedule.For(outH, bandRows, 1);
        for (int t = 0; t < schedules.Length; t++)
        {
            // Cut pieces only where they shorten the busiest thread (a batch may balance whole bands already).
            var split = BandSchedule.For(outH, bandRows, t + 1);
            var schedule = split.BusiestThreadRows(g.Depthwise.Batch, t + 1) < uniform.BusiestThreadRows(g.Depthwise.Batch, t + 1) ? split : uniform;
            foreach (int rows in schedule.Rows)
            {
                if (!pointwiseByRows.ContainsKey(rows))
                {
                    pointwiseByRows[rows] = new GemmConvolution<TOps, TVec>(BandGeometry(rows), pointwiseWeight, pointwiseBias, packedByTileRows: packedByTileRows);
                }
            }

            schedules[t] = schedule;
        }

        foreach (var plan in pointwiseByRows.Values)
        {
            packFloats = Math.Max(packFloats, plan.PackFloats);
            tileFloats = Math.Max(tileFloats, plan.TileFloats);
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
        return fused.pointwiseByRows.Values.All(p => p.ReadsSourceInPlace) ? fused : null;
    }

    public void Execute(float* input, long inputLength, float* output, int maxThreads, CancellationToken cancellationToken)
    {
        long uniformItems = (long)g.Depthwise.Batch * schedules[0].Count;
        int threads = (int)Math.Clamp(g.Multiplications / GemmConvolution<TOps, TVec>.MinWorkPerThread, 1, Math.Max(1, Math.Min(maxThreads, uniformItems)));
        var schedule = schedules[Math.Min(threads, schedules.Length) - 1];
        long items = (long)g.Depthwise.Batch * schedule.Count;

        // One chunk per band: claimed in order, the full bands go first and the pieces last.
        int chunks = threads == 1 ? 1 : (int)Math.Min(items, int.MaxValue);
        var job = (Job)jobs.Rent();
        job.Set(input, output, schedule, items, chunks, cancellationToken);
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
        using var pack = NativeBufferPool.Rent(packFloats);
        using var tile = NativeBufferPool.Rent(tileFloats);
        var schedule = job.Schedule!;
        long inPlane = (long)dw.InHeight * dw.InWidth;
        long outPlane = (long)g.Pointwise.OutHeight * g.Pointwise.OutWidth;
        int multiplier = g.DepthMultiplier;
        for (long item = first; item < end; item++)
        {
            int n = (int)(item / schedule.Count);
            int index = (int)(item % schedule.Count);
            int oy0 = schedule.Starts[index];
            int rows = schedule.Rows[index];
            long plane = (long)rows * dw.OutWidth;
            for (int c = 0; c < dw.InChannels; c++)
            {
                float* source = job.Input + ((((long)n * dw.InChannels) + c) * inPlane);
                depthwise.RunRows(workspace, source, c, oy0, oy0 + rows, band.Pointer + ((long)c * multiplier * plane), plane, job.Token);
            }

            var pointwise = pointwiseByRows[rows];
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
        public BandSchedule? Schedule { get; private set; }
        public CancellationToken Token { get; private set; }

        public void Set(float* input, float* output, BandSchedule schedule, long itemCount, int chunkCount, CancellationToken token)
        {
            Input = input;
            Output = output;
            Schedule = schedule;
            items = itemCount;
            chunks = chunkCount;
            Token = token;
        }

        protected override void RunChunk(int chunk) =>
            owner.RunBands(this, items * chunk / chunks, items * (chunk + 1) / chunks);

        protected override void Clear()
        {
            Input = Output = null;
            Schedule = null;
            Token = default;
        }
    }
}
