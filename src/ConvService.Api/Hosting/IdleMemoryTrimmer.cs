using ConvService.Api.Configuration;
using ConvService.Api.Mapping;
using ConvService.Compute;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Hosting;

/// <summary>
/// Gives memory back when the service goes idle: warm buffers make busy periods fast (first touch of fresh
/// memory is slow on our VMs), but after a burst of large requests they and the large-object heap held
/// hundreds of MiB for good. Once no call has run for ConvService:IdleTrimSeconds, the tensor and kernel
/// pools are dropped and one compacting GC returns the memory. Framework pools need more: ArrayPool.Shared
/// (where JSON transcoding's parser and writer rent buffers of up to twice a body's size) only drops arrays
/// that sat unused for a while, a few per full GC, and an idle process runs none. So while the service stays idle a
/// full collection runs every 30 s, ten times (measured on .NET 10 after four concurrent 58 MB JSON bodies: the
/// managed heap went 516 -> 510 -> 368 MiB over the first two, and on down over the next ones).
/// </summary>
public sealed class IdleMemoryTrimmer(RequestActivity activity, IOptions<ConvServiceOptions> options, ILogger<IdleMemoryTrimmer> logger)
    : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    /// <summary>Trims since start (for tests and the log).</summary>
    public int Trims { get; private set; }

    /// <summary>Follow-up collections since start.</summary>
    public int FollowUps { get; private set; }

    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When the follow-up collections run, counted from the trim (tests shorten them).</summary>
    internal TimeSpan[] FollowUpDelays { get; set; } = Enumerable.Range(1, 10).Select(i => TimeSpan.FromSeconds(30 * i)).ToArray();

    /// <summary>Completes once <see cref="ExecuteAsync"/> has begun (.NET 10 starts it on a pool thread, after StartAsync returns).</summary>
    internal Task Started => started.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        started.TrySetResult();
        double idleSeconds = options.Value.IdleTrimSeconds;
        if (idleSeconds <= 0)
        {
            return;
        }

        var idleLimit = TimeSpan.FromSeconds(idleSeconds);
        long finishedAtLastTrim = 0; // nothing to give back before the first call
        int followUpsDone = int.MaxValue;
        using var timer = new PeriodicTimer(Poll);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                long finished = activity.Finished;
                var idle = activity.IdleFor;
                if (finished != finishedAtLastTrim)
                {
                    if (idle >= idleLimit)
                    {
                        Trim();
                        finishedAtLastTrim = finished;
                        followUpsDone = 0;
                    }
                }
                else if (followUpsDone < FollowUpDelays.Length && idle >= idleLimit + FollowUpDelays[followUpsDone])
                {
                    FollowUp();
                    followUpsDone++;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping. A host that fails to start (e.g. its port is taken) never calls StopAsync, only disposes the
            // service, and then reports the cancelled loop as a failed BackgroundService next to the real error.
        }
    }

    internal void Trim()
    {
        long before = GC.GetTotalMemory(forceFullCollection: false);
        TensorBufferPool.Trim();
        long nativeFreed = ConvolutionEngine.ReleasePooledBuffers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Trims++;
        var gc = GC.GetGCMemoryInfo();
        logger.LogInformation(
            "Idle: released {NativeMiB:0.#} MiB of kernel buffers and pooled tensors; managed heap {BeforeMiB:0.#} -> {AfterMiB:0.#} MiB, GC committed {CommittedMiB:0.#} MiB",
            nativeFreed / 1048576.0, before / 1048576.0, GC.GetTotalMemory(forceFullCollection: false) / 1048576.0, gc.TotalCommittedBytes / 1048576.0);
    }

    private void FollowUp()
    {
        long before = GC.GetTotalMemory(forceFullCollection: false);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        FollowUps++;
        long after = GC.GetTotalMemory(forceFullCollection: false);
        if (after < before)
        {
            logger.LogInformation(
                "Idle: framework pools released; managed heap {BeforeMiB:0.#} -> {AfterMiB:0.#} MiB, GC committed {CommittedMiB:0.#} MiB",
                before / 1048576.0, after / 1048576.0, GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0);
        }
    }
}
