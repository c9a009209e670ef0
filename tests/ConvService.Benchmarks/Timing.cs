using System.Diagnostics;

namespace ConvService.Benchmarks;

/// <summary>How long to measure one case: at least MinRuns and MinSeconds, at most MaxSeconds (but never fewer than 3 runs).</summary>
internal sealed record TimeBox(int WarmupRuns, double WarmupSeconds, int MinRuns, double MinSeconds, double MaxSeconds)
{
    public static TimeBox Full { get; } = new(WarmupRuns: 5, WarmupSeconds: 0.5, MinRuns: 20, MinSeconds: 0.3, MaxSeconds: 3.0);

    /// <summary>One call, nothing else: enough to check agreement.</summary>
    public static TimeBox Once { get; } = new(WarmupRuns: 0, WarmupSeconds: 0, MinRuns: 1, MinSeconds: 0, MaxSeconds: 0);
}

/// <summary>Median wall time of repeated calls, and managed bytes allocated per call in steady state.</summary>
internal readonly record struct Timing(double MedianMs, int Runs, long AllocatedBytesPerCall)
{
    private const int MaxSamples = 1 << 16;

    public static Timing Measure(Action call, TimeBox box)
    {
        // Warm-up long enough for tiered JIT to promote the call path (it waits ~100 ms of quiet),
        // and at least WarmupRuns calls when calls are short; a slow call is warm after one.
        if (box.WarmupRuns > 0 || box.WarmupSeconds > 0)
        {
            long warmupStart = Stopwatch.GetTimestamp();
            for (int runs = 1; ; runs++)
            {
                call();
                double elapsed = (Stopwatch.GetTimestamp() - warmupStart) / (double)Stopwatch.Frequency;
                if ((runs >= box.WarmupRuns && elapsed >= box.WarmupSeconds) || elapsed >= 2 * box.WarmupSeconds)
                {
                    break;
                }
            }
        }

        // Allocated up front so the measurement loop itself allocates nothing.
        var samples = new double[MaxSamples];
        int count = 0;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            long t1 = Stopwatch.GetTimestamp();
            samples[count++] = (t1 - t0) * 1000.0 / Stopwatch.Frequency;
            double elapsed = (t1 - start) / (double)Stopwatch.Frequency;
            bool enough = count >= box.MinRuns && elapsed >= box.MinSeconds;
            bool outOfTime = elapsed >= box.MaxSeconds && count >= Math.Min(3, box.MinRuns);
            if (enough || outOfTime || count == MaxSamples)
            {
                break;
            }
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        return new Timing(Median(samples.AsSpan(0, count)), count, allocated / count);
    }

    public static double Median(Span<double> samples)
    {
        samples.Sort();
        int n = samples.Length;
        return n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    }
}
