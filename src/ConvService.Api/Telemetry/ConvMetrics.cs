using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ConvService.Api.Telemetry;

/// <summary>The instruments of Meter "ConvService"; names and attributes are agreed in notes/METRICS.md.</summary>
public sealed class ConvMetrics
{
    public const string MeterName = "ConvService";

    /// <summary>Microseconds to seconds: a 3x3 on a small image up to a multi-gigaflop request.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
    [
        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ];

    private readonly Histogram<double> _computeDuration;
    private readonly Counter<long> _multiplications;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _queueWait;
    private readonly UpDownCounter<long> _inflight;
    private readonly UpDownCounter<long> _queued;

    public ConvMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };
        _computeDuration = meter.CreateHistogram("conv.compute.duration", "s", "Wall time of the computation itself.", advice: advice);
        _multiplications = meter.CreateCounter<long>("conv.multiplications", description: "Multiplications performed, by kind.");
        _requests = meter.CreateCounter<long>("conv.requests", description: "Completed RPC calls of the Convolution service, by method and gRPC status.");
        _queueWait = meter.CreateHistogram("conv.queue.wait", "s", "Time a computation waited for a compute slot.", advice: advice);
        _inflight = meter.CreateUpDownCounter<long>("conv.computations.inflight", description: "Computations running now.");
        _queued = meter.CreateUpDownCounter<long>("conv.computations.queued", description: "Computations waiting for a compute slot now.");
        // Both gauges exist from the start (at 0), so dashboards and alerts see them before the first call.
        _inflight.Add(0);
        _queued.Add(0);
    }

    public void RecordComputation(string kind, double seconds, long multiplications)
    {
        var tag = new KeyValuePair<string, object?>("conv.kind", kind);
        _computeDuration.Record(seconds, tag);
        _multiplications.Add(multiplications, tag);
    }

    public void RecordRequest(string method, string statusCode) =>
        _requests.Add(1, new TagList { { "rpc.method", method }, { "rpc.grpc.status_code", statusCode } });

    public void RecordQueueWait(double seconds) => _queueWait.Record(seconds);

    public void ChangeInflight(long delta) => _inflight.Add(delta);

    public void ChangeQueued(long delta) => _queued.Add(delta);
}
