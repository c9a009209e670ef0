namespace ConvService.Stress;

/// <summary>How one checked call ended.</summary>
public enum CallVerdict
{
    /// <summary>OK and the answer matched the precomputed output.</summary>
    Served,

    /// <summary>OK but the answer was wrong.</summary>
    WrongAnswer,

    /// <summary>RESOURCE_EXHAUSTED / HTTP 429: admission control said no.</summary>
    Refused,

    /// <summary>UNAVAILABLE / HTTP 503 sent by the server, or the connection was refused: the call never started.</summary>
    CleanlyUnavailable,

    /// <summary>Anything else: UNKNOWN, INTERNAL, 5xx, a reset after the call was accepted, a deadline hit.</summary>
    Failed,
}
