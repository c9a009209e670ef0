using System.Diagnostics;

namespace ConvService.Stress;

/// <summary>Checks shared by the runs: the compute pool drains to zero and memory returns near its baseline.</summary>
public static class PoolChecks
{
    /// <summary>Waits (up to 15 s) for conv_computations_inflight and conv_computations_queued to read 0.</summary>
    public static async Task ExpectDrainedAsync(MetricsScraper metrics, string run, Scorecard scorecard)
    {
        var clock = Stopwatch.StartNew();
        (double? inflight, double? queued) = (null, null);
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            (inflight, queued) = await metrics.PoolGaugesAsync(CancellationToken.None);
            if (inflight is 0 && queued is 0)
            {
                break;
            }

            await Task.Delay(100);
        }

        scorecard.Check(
            $"{run}: compute pool back to empty",
            inflight is 0 && queued is 0,
            $"conv_computations_inflight {Show(inflight)}, conv_computations_queued {Show(queued)} after {clock.Elapsed.TotalMilliseconds:0} ms");
    }

    /// <summary>RSS after a run must be within the slack of RSS before it (the GC keeps some heap, so exact equality is not expected).</summary>
    public static async Task ExpectMemoryBackAsync(int? pid, double? before, double slackMiB, string run, Scorecard scorecard)
    {
        if (pid is null || before is null)
        {
            Scorecard.Report($"{run}: no --pid given, RSS not checked");
            return;
        }

        // An idle service drops its pools after IdleTrimSeconds (5 s) and then lets the framework's shared array pool go
        // in full GCs every 30 s: poll (passing as soon as memory is back) for up to two of those.
        double? after = ProcessMemory.ResidentMiB(pid);
        var clock = Stopwatch.StartNew();
        while (after > before + slackMiB && clock.Elapsed < TimeSpan.FromSeconds(75))
        {
            await Task.Delay(250);
            after = ProcessMemory.ResidentMiB(pid);
        }

        scorecard.Check(
            $"{run}: RSS back near baseline",
            after is not null && after <= before + slackMiB,
            $"before {ProcessMemory.Describe(before)}, after {ProcessMemory.Describe(after)}, allowed +{slackMiB:0} MiB, peak (VmHWM) {ProcessMemory.Describe(ProcessMemory.PeakResidentMiB(pid))}");
    }

    private static string Show(double? value) => value is { } v ? v.ToString("0", System.Globalization.CultureInfo.InvariantCulture) : "absent";
}
