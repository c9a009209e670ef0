namespace ConvService.Stress;

/// <summary>Collects call latencies (milliseconds) from many workers and reports percentiles.</summary>
public sealed class LatencyRecorder
{
    private readonly Lock gate = new();
    private readonly List<double> samples = [];

    public int Count
    {
        get
        {
            lock (gate)
            {
                return samples.Count;
            }
        }
    }

    public void Add(double milliseconds)
    {
        lock (gate)
        {
            samples.Add(milliseconds);
        }
    }

    /// <summary>Nearest-rank percentile, p in [0, 100]; NaN when nothing was recorded.</summary>
    public double Percentile(double p)
    {
        lock (gate)
        {
            if (samples.Count == 0)
            {
                return double.NaN;
            }

            var sorted = samples.ToArray();
            Array.Sort(sorted);
            int rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
            return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
        }
    }

    public string Summary() => $"p50 {Percentile(50):0.00} ms, p99 {Percentile(99):0.00} ms, max {Percentile(100):0.00} ms ({Count} calls)";
}
