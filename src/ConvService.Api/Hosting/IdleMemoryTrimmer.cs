using ConvService.Api.Admission;
using ConvService.Api.Configuration;
using ConvService.Api.Mapping;
using ConvService.Compute;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Hosting;

/// <summary>
/// Gives memory back when the service goes idle: warm buffers make busy periods fast (first touch of fresh
/// memory is slow on our VMs), but after a burst of large requests they and the large-object heap held
/// hundreds of MiB for good. Once no computation has run for ConvService:IdleTrimSeconds, the tensor and
/// kernel pools are dropped and one compacting GC returns the memory; then nothing until the next call.
/// </summary>
public sealed class IdleMemoryTrimmer(ComputeAdmission admission, IOptions<ConvServiceOptions> options, ILogger<IdleMemoryTrimmer> logger)
    : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    /// <summary>Trims since start (for tests and the log).</summary>
    public int Trims { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        double idleSeconds = options.Value.IdleTrimSeconds;
        if (idleSeconds <= 0)
        {
            return;
        }

        var idleLimit = TimeSpan.FromSeconds(idleSeconds);
        long completedAtLastTrim = 0; // nothing to give back before the first computation
        using var timer = new PeriodicTimer(Poll);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            long completed = admission.Completed;
            if (completed != completedAtLastTrim && admission.IdleFor >= idleLimit)
            {
                Trim();
                completedAtLastTrim = completed;
            }
        }
    }

    internal void Trim()
    {
        long before = GC.GetTotalMemory(forceFullCollection: false);
        TensorBufferPool.Trim();
        long nativeFreed = ConvolutionEngine.ReleasePooledBuffers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Trims++;
        logger.LogInformation(
            "Idle: released {NativeMiB:0.#} MiB of kernel buffers and pooled tensors; managed heap {BeforeMiB:0.#} -> {AfterMiB:0.#} MiB",
            nativeFreed / 1048576.0, before / 1048576.0, GC.GetTotalMemory(forceFullCollection: false) / 1048576.0);
    }
}
