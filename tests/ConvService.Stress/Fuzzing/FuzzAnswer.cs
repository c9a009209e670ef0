namespace ConvService.Stress.Fuzzing;

/// <summary>What the service answered to one fuzz case and whether that answer is allowed.</summary>
/// <param name="Outcome">Status class, e.g. "grpc:InvalidArgument" or "rest:400".</param>
/// <param name="Detail">The service's message (or the reason the answer is not allowed).</param>
public sealed record FuzzAnswer(bool Acceptable, string Outcome, string Detail);
