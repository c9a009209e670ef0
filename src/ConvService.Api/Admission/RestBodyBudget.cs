namespace ConvService.Api.Admission;

/// <summary>
/// Bytes of REST (JSON) request bodies being parsed and served at once. JSON transcoding reads and parses a
/// body before the compute admission sees the call, and a JSON tensor costs several times its size while it is
/// parsed (the text, the parser's growing buffer, the decoded floats, the JSON response), so without this ten
/// concurrent 60 MB bodies would take gigabytes before the queue limit could refuse any of them.
/// A body is admitted when it fits in what is left, or when nothing else is in flight (so one body up to
/// MaxRequestBytes always gets through); otherwise the caller is refused at once with 429 and Retry-After.
/// </summary>
public sealed class RestBodyBudget(long limitBytes)
{
    private readonly object gate = new();
    private long inFlight;

    public long LimitBytes { get; } = limitBytes;

    /// <summary>Bytes of admitted REST bodies whose calls have not finished.</summary>
    public long InFlightBytes
    {
        get
        {
            lock (gate)
            {
                return inFlight;
            }
        }
    }

    public bool TryReserve(long bytes)
    {
        lock (gate)
        {
            if (inFlight > 0 && inFlight + bytes > LimitBytes)
            {
                return false;
            }

            inFlight += bytes;
            return true;
        }
    }

    public void Release(long bytes)
    {
        lock (gate)
        {
            inFlight -= bytes;
        }
    }
}
