using System.Diagnostics;

namespace ConvService.Api.Hosting;

/// <summary>
/// Calls (POST: gRPC and REST) in flight and finished, and how long the service has been without one. Probes and
/// scrapes are not activity (GET /healthz, /metrics, and the gRPC health and reflection services): a probe every
/// few seconds must neither keep an idle service from giving memory back nor make it trim after every probe.
/// </summary>
public sealed class RequestActivity
{
    private long inFlight;
    private long finished;
    private long lastFinishedTimestamp = Stopwatch.GetTimestamp();

    /// <summary>Calls finished since start.</summary>
    public long Finished => Interlocked.Read(ref finished);

    /// <summary>Zero while a call is in flight, else the time since the last one finished.</summary>
    public TimeSpan IdleFor => Interlocked.Read(ref inFlight) > 0
        ? TimeSpan.Zero
        : Stopwatch.GetElapsedTime(Interlocked.Read(ref lastFinishedTimestamp));

    public async Task TrackAsync(HttpContext context, RequestDelegate next)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || context.Request.Path.StartsWithSegments("/grpc.health.v1.Health")
            || context.Request.Path.Value?.StartsWith("/grpc.reflection.", StringComparison.Ordinal) == true)
        {
            await next(context);
            return;
        }

        Interlocked.Increment(ref inFlight);
        try
        {
            await next(context);
        }
        finally
        {
            Interlocked.Exchange(ref lastFinishedTimestamp, Stopwatch.GetTimestamp());
            Interlocked.Increment(ref finished);
            Interlocked.Decrement(ref inFlight);
        }
    }
}
