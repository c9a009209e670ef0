namespace ConvService.Stress;

/// <summary>One checked call: its verdict, the status seen, a detail for failures, its latency and whether a refusal carried a retry hint.</summary>
public sealed record CallResult(CallVerdict Verdict, string Status, string Detail, double Milliseconds, bool RetryHint);
