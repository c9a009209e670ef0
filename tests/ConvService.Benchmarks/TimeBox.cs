namespace ConvService.Benchmarks;

/// <summary>
/// How long to measure one case. The timed calls are split into <see cref="Rounds"/> slices that
/// are interleaved with the other libraries' slices, so a change in machine load hits every
/// library alike. In total: at least MinRuns calls and MinSeconds, at most MaxSeconds (but at
/// least one call per round).
/// </summary>
internal sealed record TimeBox(int WarmupRuns, double WarmupSeconds, int MinRuns, double MinSeconds, double MaxSeconds, int Rounds)
{
    public static TimeBox Full { get; } = new(WarmupRuns: 5, WarmupSeconds: 0.5, MinRuns: 20, MinSeconds: 0.3, MaxSeconds: 3.0, Rounds: 5);

    /// <summary>One call, nothing else: enough to check agreement.</summary>
    public static TimeBox Once { get; } = new(WarmupRuns: 0, WarmupSeconds: 0, MinRuns: 1, MinSeconds: 0, MaxSeconds: 0, Rounds: 1);
}
