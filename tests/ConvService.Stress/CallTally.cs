using System.Collections.Concurrent;

namespace ConvService.Stress;

/// <summary>Counts of call results by verdict and status, served latencies, and the first few failures for the report.</summary>
public sealed class CallTally
{
    private readonly ConcurrentDictionary<CallVerdict, int> verdicts = new();
    private readonly ConcurrentDictionary<string, int> statuses = new();
    private readonly ConcurrentQueue<string> problems = new();
    private int retryHints;

    public LatencyRecorder ServedLatency { get; } = new();
    public LatencyRecorder RefusedLatency { get; } = new();

    public int this[CallVerdict verdict] => verdicts.GetValueOrDefault(verdict);

    public int Total => verdicts.Values.Sum();

    public int RetryHints => retryHints;

    public IEnumerable<string> Problems => problems;

    public void Add(CallResult result, string label)
    {
        verdicts.AddOrUpdate(result.Verdict, 1, (_, n) => n + 1);
        statuses.AddOrUpdate($"{label} {result.Status}", 1, (_, n) => n + 1);
        switch (result.Verdict)
        {
            case CallVerdict.Served:
                ServedLatency.Add(result.Milliseconds);
                break;
            case CallVerdict.Refused:
                RefusedLatency.Add(result.Milliseconds);
                if (result.RetryHint)
                {
                    Interlocked.Increment(ref retryHints);
                }

                break;
            case CallVerdict.WrongAnswer or CallVerdict.Failed when problems.Count < 20:
                problems.Enqueue($"{label}: {result.Verdict} {result.Status} {result.Detail}");
                break;
            default:
                break;
        }
    }

    public void Print()
    {
        foreach (var (status, count) in statuses.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Scorecard.Report($"{count,7}  {status}");
        }

        foreach (string problem in problems)
        {
            Scorecard.Report($"problem: {problem}");
        }
    }
}
