using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;
using ConvService.Api.Configuration;
using ConvService.Api.Grpc;
using ConvService.Api.Health;
using ConvService.Api.Telemetry;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Admission;

/// <summary>
/// Decides whether a computation may run: size and cost limits (checked from the geometry, before
/// anything is allocated), then a slot in a bounded compute pool with a bounded queue. A full queue
/// refuses at once with a retry hint instead of queueing without bound. Cheap calls (at most
/// ConvService:ExpressMultiplications) that find every slot busy take one extra express slot, queueing
/// only behind other cheap calls: with FIFO slots alone, a sub-millisecond call waits for a computation
/// that may take seconds. So at most MaxConcurrentComputations + 1 computations run, the extra one cheap.
/// </summary>
public sealed class ComputeAdmission : IDisposable
{
    /// <summary>What a refused caller is told to wait before retrying.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly ConvServiceOptions _options;
    private readonly ConcurrencyLimiter _limiter;
    private readonly ConcurrencyLimiter _express;
    private readonly ConvMetrics _metrics;
    private readonly ReadinessState _readiness;
    private int _running;

    public ComputeAdmission(IOptions<ConvServiceOptions> options, ConvMetrics metrics, ReadinessState readiness)
    {
        _options = options.Value;
        _metrics = metrics;
        _readiness = readiness;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _options.MaxConcurrentComputations,
            QueueLimit = _options.MaxQueuedComputations,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _express = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = 1,
            QueueLimit = _options.MaxQueuedComputations,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Refuses work over the configured cost or size limits with RESOURCE_EXHAUSTED (REST: 429).</summary>
    public void CheckLimits(long multiplications, long inputElements, long outputElements)
    {
        if (multiplications > _options.MaxMultiplications)
        {
            throw RpcErrors.OverLimit(
                $"this convolution costs {multiplications} multiplications; the limit is {_options.MaxMultiplications} (ConvService:MaxMultiplications)");
        }

        if (inputElements > _options.MaxInputElements)
        {
            throw RpcErrors.OverLimit(
                $"the input has {inputElements} elements; the limit is {_options.MaxInputElements} (ConvService:MaxInputElements)");
        }

        if (outputElements > _options.MaxOutputElements)
        {
            throw RpcErrors.OverLimit(
                $"the output would have {outputElements} elements; the limit is {_options.MaxOutputElements} (ConvService:MaxOutputElements)");
        }
    }

    /// <summary>
    /// Waits for a compute slot (at most MaxQueuedComputations callers wait). Dispose the result to free the slot.
    /// Refuses with UNAVAILABLE while shutting down and RESOURCE_EXHAUSTED (with a retry hint) when the queue is full.
    /// </summary>
    public async ValueTask<IDisposable> EnterAsync(CallRecord call, HttpContext? httpContext, CancellationToken cancellationToken)
    {
        if (_readiness.IsDraining)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "the server is shutting down; retry on another instance"));
        }

        long started = Stopwatch.GetTimestamp();
        bool cheap = call.Multiplications <= _options.ExpressMultiplications;
        var lease = _limiter.AttemptAcquire();
        if (!lease.IsAcquired && cheap)
        {
            lease.Dispose();
            lease = _express.AttemptAcquire();
        }

        if (!lease.IsAcquired)
        {
            lease.Dispose();
            _metrics.ChangeQueued(1);
            try
            {
                lease = await (cheap ? _express : _limiter).AcquireAsync(1, cancellationToken);
            }
            finally
            {
                _metrics.ChangeQueued(-1);
            }
        }

        var waited = Stopwatch.GetElapsedTime(started);
        call.QueueWaitMs = waited.TotalMilliseconds;
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            // REST clients read Retry-After; gRPC clients get grpc-retry-pushback-ms in the trailers.
            if (httpContext is not null)
            {
                SetRetryAfter(httpContext.Response);
            }

            throw RpcErrors.Busy(
                $"all {_options.MaxConcurrentComputations} compute slots are busy and the queue of {_options.MaxQueuedComputations} is full; retry after {RetryAfter.TotalSeconds:0} s",
                RetryAfter);
        }

        _metrics.RecordQueueWait(waited.TotalSeconds);
        _metrics.ChangeInflight(1);
        Interlocked.Increment(ref _running);
        return new Slot(lease, this);
    }

    /// <summary>The Retry-After header every refusal that is worth retrying carries (REST).</summary>
    public static void SetRetryAfter(HttpResponse response) =>
        response.Headers.RetryAfter = ((int)RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>Computations holding a slot right now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Slots free and callers waiting right now.</summary>
    public (long Available, long Queued) Snapshot()
    {
        var statistics = _limiter.GetStatistics();
        var express = _express.GetStatistics();
        return (statistics?.CurrentAvailablePermits ?? 0, (statistics?.CurrentQueuedCount ?? 0) + (express?.CurrentQueuedCount ?? 0));
    }

    public void Dispose()
    {
        _limiter.Dispose();
        _express.Dispose();
    }

    private sealed class Slot(RateLimitLease lease, ComputeAdmission admission) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref admission._running);
                admission._metrics.ChangeInflight(-1);
                lease.Dispose();
            }
        }
    }
}
