namespace ConvService.Compute.Threading;

/// <summary>A kernel that processes a range of (batch, channel or row-block) work items of one execution.</summary>
internal unsafe interface IChannelRangeKernel
{
    void RunChannels(ChannelRangeJob job, long first, long end);
}
