namespace ConvService.Stress.Fuzzing;

/// <summary>One hostile request: the RPC it targets, the exact body bytes sent and how they were made.</summary>
/// <param name="Kind">Generator class, e.g. "grpc/mutated-message" or "rest/random-json"; used to tally results.</param>
/// <param name="Oversize">True when the body is deliberately larger than the service's request limit.</param>
public sealed record FuzzCase(FuzzTransport Transport, string Method, byte[] Body, string Kind, bool Oversize);
