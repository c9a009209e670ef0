namespace ConvService.Api.Hosting;

/// <summary>What the start-up warm-up did: its status, the algorithms that ran (as ExecutionInfo.algorithm names them) and how long it took.</summary>
public sealed record WarmUpOutcome(WarmUpStatus Status, IReadOnlyList<string> Algorithms, TimeSpan Duration);
