using System.Diagnostics;
using System.Runtime;
using ConvService.Api.Admission;
using ConvService.Api.Configuration;
using ConvService.Api.Health;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Hosting;

/// <summary>
/// Runs <see cref="KernelWarmUpCases"/> once right after start, on its own thread, through the engine a lone call gets
/// (the full thread budget: the JIT's code is shared by every engine, and the split path starts the compute helpers),
/// so the first calls after a scale-out or rollout do not pay the planning and JIT of each kernel family. Readiness
/// (/readyz, grpc.health.v1) stays off until it ends; calls arriving earlier are served as usual. If it throws or
/// outlasts ConvService:WarmUpTimeoutSeconds the service becomes ready anyway, with a warning. Each case runs twice:
/// the second run takes the plan-cache hit path repeat calls take. The plans it leaves in the engine's cache are a
/// few KB and never used again, so they are the least recently used and evicted first.
/// </summary>
public sealed class KernelWarmUp(
    ThreadBudgetEngines engines, KernelWarmUpCases cases, ReadinessState readiness, IOptions<ConvServiceOptions> options, ILogger<KernelWarmUp> logger)
    : BackgroundService
{
    private readonly TaskCompletionSource<WarmUpOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the warm-up has ended (or was skipped) and readiness no longer waits for it.</summary>
    public Task<WarmUpOutcome> Completion => _completion.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.WarmUpAtStart)
        {
            Finish(new WarmUpOutcome(WarmUpStatus.Skipped, [], TimeSpan.Zero));
            return;
        }

        var timeout = TimeSpan.FromSeconds(options.Value.WarmUpTimeoutSeconds);
        long started = Stopwatch.GetTimestamp();
        var jitTime = JitInfo.GetCompilationTime();
        long jitMethods = JitInfo.GetCompiledMethodCount();
        var algorithms = new List<string>();
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        // Its own thread: a few hundred ms of JIT and compute must not hold one of the few pool threads a starting host has.
        var work = Task.Factory.StartNew(
            () => Run(algorithms, cancel.Token), cancel.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // The work may outlive this method (timeout): the token source goes once it has ended, its exception is observed.
        _ = work.ContinueWith(_ => cancel.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        WarmUpOutcome outcome;
        try
        {
            await work.WaitAsync(timeout, stoppingToken);
            outcome = new WarmUpOutcome(WarmUpStatus.Completed, Snapshot(algorithms), Stopwatch.GetElapsedTime(started));
            logger.LogInformation(
                "Warm-up ran {Cases} convolutions, twice each ({Algorithms}), in {WarmUpMs:0.#} ms; JIT compiled {JitMethods} methods in {JitMs:0.#} ms meanwhile (whole process); ready",
                cases.Cases.Count, outcome.Algorithms, outcome.Duration.TotalMilliseconds,
                JitInfo.GetCompiledMethodCount() - jitMethods, (JitInfo.GetCompilationTime() - jitTime).TotalMilliseconds);
        }
        catch (TimeoutException)
        {
            await cancel.CancelAsync();
            outcome = new WarmUpOutcome(WarmUpStatus.TimedOut, Snapshot(algorithms), Stopwatch.GetElapsedTime(started));
            logger.LogWarning(
                "Warm-up did not finish within {TimeoutSeconds} s (ConvService:WarmUpTimeoutSeconds); ready anyway, the first calls of the families not yet run ({Algorithms} ran) will be slow",
                timeout.TotalSeconds, outcome.Algorithms);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            outcome = new WarmUpOutcome(WarmUpStatus.Stopped, Snapshot(algorithms), Stopwatch.GetElapsedTime(started));
        }
        catch (Exception ex)
        {
            outcome = new WarmUpOutcome(WarmUpStatus.Failed, Snapshot(algorithms), Stopwatch.GetElapsedTime(started));
            logger.LogWarning(ex, "Warm-up failed after {WarmUpMs:0.#} ms; ready anyway, the first calls of some kernel families will be slow",
                outcome.Duration.TotalMilliseconds);
        }

        Finish(outcome);
    }

    private void Run(List<string> algorithms, CancellationToken cancellationToken)
    {
        var engine = engines.For(running: 1);
        foreach (var warmUpCase in cases.Cases)
        {
            for (int run = 0; run < 2; run++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = warmUpCase.Run(engine, cancellationToken);
                lock (algorithms)
                {
                    if (!algorithms.Contains(result.Algorithm))
                    {
                        algorithms.Add(result.Algorithm);
                    }
                }
            }
        }
    }

    private static string[] Snapshot(List<string> algorithms)
    {
        lock (algorithms)
        {
            return [.. algorithms];
        }
    }

    private void Finish(WarmUpOutcome outcome)
    {
        readiness.EndWarmUp();
        _completion.TrySetResult(outcome);
    }
}
