using ConvService.Compute.Kernels;

namespace ConvService.Compute.Threading;

/// <summary>
/// One execution of a per-channel kernel (depthwise, separable filter) split into chunks of work items:
/// the input, output, row blocks and token the chunks share.
/// </summary>
internal sealed unsafe class ChannelRangeJob(IChannelRangeKernel owner) : ParallelJob
{
    private long items;
    private int chunks;

    public float* Input { get; private set; }
    public float* Output { get; private set; }
    public CancellationToken Token { get; private set; }

    public RowBlocks Blocks { get; private set; }

    public void Set(float* input, float* output, long itemCount, int chunkCount, RowBlocks blocks, CancellationToken token)
    {
        Blocks = blocks;
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
