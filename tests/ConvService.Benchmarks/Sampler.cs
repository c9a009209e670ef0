using System.Diagnostics;

namespace ConvService.Benchmarks;

/// <summary>
/// Collects the wall times of one runner's calls, slice by slice, and the managed bytes allocated
/// while timing; reports the median and the bytes per call.
/// </summary>
internal sealed class Sampler(Action call)
{
    private const int MaxSamples = 1 << 16;
    private const int SettleMilliseconds = 50;

    // Allocated up front so the timing loop itself allocates nothing.
    private readonly double[] _samples = new double[MaxSamples];
    private int _count;
    private long _allocated;

    public int Runs => _count;

    public double MedianMs
    {
        get
        {
            var sorted = _samples.AsSpan(0, _count).ToArray();
            return Median(sorted);
        }
    }

    /// <summary>The fastest call: on a shared machine, the closest to what the code does unloaded.</summary>
    public double MinMs => _count == 0 ? double.NaN : _samples.AsSpan(0, _count).ToArray().Min();

    public long AllocatedBytesPerCall => _count == 0 ? 0 : _allocated / _count;

    /// <summary>Warm-up and every round back to back: for a case measured on its own.</summary>
    public static Sampler Measure(Action call, TimeBox box)
    {
        var sampler = new Sampler(call);
        sampler.WarmUp(box);
        for (int round = 0; round < box.Rounds; round++)
        {
            sampler.Slice(box);
        }

        return sampler;
    }

    /// <summary>
    /// Long enough for tiered JIT to promote the call path (it waits for ~100 ms of quiet) and at
    /// least WarmupRuns calls when calls are short; a call slower than twice WarmupSeconds is warm after one.
    /// </summary>
    public void WarmUp(TimeBox box)
    {
        if (box.WarmupRuns == 0 && box.WarmupSeconds == 0)
        {
            return;
        }

        long start = Stopwatch.GetTimestamp();
        for (int runs = 1; ; runs++)
        {
            call();
            double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if ((runs >= box.WarmupRuns && elapsed >= box.WarmupSeconds) || elapsed >= 2 * box.WarmupSeconds)
            {
                return;
            }
        }
    }

    /// <summary>One round's share of the time box; with several rounds, one untimed call first brings the caches back.</summary>
    public void Slice(TimeBox box)
    {
        if (box.Rounds > 1)
        {
            // The runner timed before this one may leave threads spinning (ONNX Runtime's intra-op pool spins
            // after each run): let them go idle so this runner's helper threads get the cores.
            Thread.Sleep(SettleMilliseconds);
            call();
        }

        int minRuns = (box.MinRuns + box.Rounds - 1) / box.Rounds;
        double minSeconds = box.MinSeconds / box.Rounds, maxSeconds = box.MaxSeconds / box.Rounds;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();
        for (int runs = 1; _count < MaxSamples; runs++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            long t1 = Stopwatch.GetTimestamp();
            _samples[_count++] = (t1 - t0) * 1000.0 / Stopwatch.Frequency;
            double elapsed = (t1 - start) / (double)Stopwatch.Frequency;
            if ((runs >= minRuns && elapsed >= minSeconds) || elapsed >= maxSeconds)
            {
                break;
            }
        }

        _allocated += GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
    }

    public static double Median(Span<double> samples)
    {
        samples.Sort();
        int n = samples.Length;
        return n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    }
}
