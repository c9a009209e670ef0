using System.Diagnostics;
using ConvService.Contract.V1;

namespace ConvService.Benchmarks.Service;

/// <summary>Medians of one server's calls: end to end, the server-reported compute_ms, and per call e2e - compute_ms.</summary>
internal sealed record ServiceSamples(int Calls, double E2eMs, double E2eP90Ms, double ComputeMs, double PairedOverheadMs)
{
    /// <summary>
    /// Warms every server up, then runs <paramref name="rounds"/> rounds; each round gives every server one slice
    /// of the time box, in an order that rotates, so load changes on a shared machine hit all servers alike.
    /// </summary>
    public static async Task<ServiceSamples[]> MeasureInterleavedAsync(Func<Task<ConvolveResponse>>[] calls, TimeBox box, int rounds)
    {
        foreach (var call in calls)
        {
            long warmupEnd = Stopwatch.GetTimestamp() + (long)(box.WarmupSeconds * Stopwatch.Frequency);
            for (int i = 0; i < box.WarmupRuns || Stopwatch.GetTimestamp() < warmupEnd; i++)
            {
                await call();
            }
        }

        var e2e = calls.Select(_ => new List<double>()).ToArray();
        var compute = calls.Select(_ => new List<double>()).ToArray();
        double sliceSeconds = box.MaxSeconds / rounds;
        int sliceMinRuns = Math.Max(1, (box.MinRuns + rounds - 1) / rounds);
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < calls.Length; k++)
            {
                int s = (round + k) % calls.Length;
                // One untimed call first: the other server's slice has just had the CPU caches.
                await calls[s]();
                long start = Stopwatch.GetTimestamp();
                for (int runs = 1; ; runs++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    var response = await calls[s]();
                    long t1 = Stopwatch.GetTimestamp();
                    e2e[s].Add((t1 - t0) * 1000.0 / Stopwatch.Frequency);
                    compute[s].Add(response.Execution?.ComputeMs ?? double.NaN);
                    if (runs >= sliceMinRuns && (t1 - start) >= sliceSeconds * Stopwatch.Frequency)
                    {
                        break;
                    }
                }
            }
        }

        return [.. Enumerable.Range(0, calls.Length).Select(s => Summarise(e2e[s], compute[s]))];
    }

    private static ServiceSamples Summarise(List<double> e2e, List<double> compute)
    {
        double[] paired = [.. e2e.Zip(compute, (total, server) => total - server)];
        double[] sortedE2e = [.. e2e];
        Array.Sort(sortedE2e);
        double p90 = sortedE2e[Math.Min(sortedE2e.Length - 1, (int)(0.9 * sortedE2e.Length))];
        return new ServiceSamples(e2e.Count, Sampler.Median(sortedE2e), p90, Sampler.Median([.. compute]), Sampler.Median(paired));
    }
}
