using System.ComponentModel.DataAnnotations;

namespace ConvService.Api.Configuration;

/// <summary>The <c>ConvService</c> configuration section: request limits, admission, deadlines, shutdown and API keys.</summary>
public sealed class ConvServiceOptions
{
    public const string SectionName = "ConvService";

    /// <summary>Largest request body (gRPC message or REST JSON body), bytes. Over it: RESOURCE_EXHAUSTED / HTTP 413.</summary>
    [Range(1, int.MaxValue)]
    public int MaxRequestBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// Bytes of REST (JSON) request bodies admitted at once; a body that does not fit while others are in flight is
    /// refused with HTTP 429 and Retry-After (one body up to MaxRequestBytes always fits when it is alone).
    /// </summary>
    [Range(1, long.MaxValue)]
    public long MaxRestBytesInFlight { get; set; } = 64 * 1024 * 1024;

    /// <summary>Largest cost of one computation in multiplications (the EstimateCost model). Over it: RESOURCE_EXHAUSTED / HTTP 429.</summary>
    [Range(1, long.MaxValue)]
    public long MaxMultiplications { get; set; } = 50_000_000_000;

    /// <summary>Largest input tensor, elements.</summary>
    [Range(1, long.MaxValue)]
    public long MaxInputElements { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest output tensor, elements (the response buffer is 4 bytes per element, one array: at most 256 Mi elements).</summary>
    [Range(1, 256L * 1024 * 1024)]
    public long MaxOutputElements { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// Largest output of a REST (JSON) call, elements; larger outputs need gRPC. The JSON response is built whole in one
    /// buffer before it is sent (about 12 bytes per number; the framework's array pool then keeps that buffer for a while),
    /// and raw_data as one base64 string cannot exceed System.Text.Json's longest token (31,249,999 floats): that was a 500.
    /// </summary>
    [Range(1, 31_249_999)]
    public long MaxRestOutputElements { get; set; } = 4 * 1024 * 1024;

    /// <summary>Computations running at once; default the processor count.</summary>
    [Range(1, 4096)]
    public int MaxConcurrentComputations { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Calls costing at most this many multiplications that find every slot busy run in one extra express slot
    /// (queueing only behind other such calls), so cheap calls do not wait behind expensive ones; 0 turns it off.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long ExpressMultiplications { get; set; } = 4 * 1024 * 1024;

    /// <summary>Computations waiting for a slot; beyond it a call is refused at once (RESOURCE_EXHAUSTED / HTTP 429).</summary>
    [Range(0, 1_000_000)]
    public int MaxQueuedComputations { get; set; } = 64;

    /// <summary>Deadline given to calls that carry none (REST calls, gRPC calls without grpc-timeout), seconds.</summary>
    [Range(0.001, 86_400)]
    public double DefaultDeadlineSeconds { get; set; } = 30;

    /// <summary>On SIGTERM, how long in-flight calls may still run before the process exits, seconds.</summary>
    [Range(0, 3_600)]
    public double DrainSeconds { get; set; } = 20;

    /// <summary>
    /// After this long with no computation running, pooled tensor and kernel buffers are released and the GC
    /// compacts, so an idle service returns to its baseline memory; 0 keeps them forever. Seconds.
    /// </summary>
    [Range(0, 86_400)]
    public double IdleTrimSeconds { get; set; } = 5;

    /// <summary>
    /// Run one tiny convolution of each kernel family right after start (planning and JIT of the SIMD kernels, 13-38 ms per
    /// family on a first call otherwise); readiness stays off until it has ended.
    /// </summary>
    public bool WarmUpAtStart { get; set; } = true;

    /// <summary>Longest the start-up warm-up may hold readiness back; past it the service becomes ready anyway (with a warning). Seconds.</summary>
    [Range(0.001, 3_600)]
    public double WarmUpTimeoutSeconds { get; set; } = 10;

    /// <summary>Accepted API keys (<c>authorization: Bearer &lt;key&gt;</c>); empty turns authentication off.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>Console log format: <c>text</c> (readable, default) or <c>json</c> (compact JSON, one event per line).</summary>
    [RegularExpression("^(?i)(text|json)$")]
    public string LogFormat { get; set; } = "text";
}
