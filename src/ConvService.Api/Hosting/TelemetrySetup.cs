using ConvService.Api.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ConvService.Api.Hosting;

/// <summary>
/// OpenTelemetry: Meter and ActivitySource "ConvService" plus ASP.NET Core instrumentation; Prometheus
/// text at GET /metrics always; OTLP export of metrics and traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
/// </summary>
public static class TelemetrySetup
{
    public static WebApplicationBuilder AddConvServiceTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ConvMetrics>();
        bool otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        string serviceName = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "convservice";
        var buckets = new ExplicitBucketHistogramConfiguration { Boundaries = [.. ConvMetrics.DurationBuckets] };
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ConvMetrics.MeterName)
                    .AddView("conv.compute.duration", buckets)
                    .AddView("conv.queue.wait", buckets)
                    .AddAspNetCoreInstrumentation()
                    // .NET's built-in runtime meter: GC heap, working set, thread pool, for memory and saturation panels.
                    .AddMeter("System.Runtime")
                    .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0);
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(ConvActivitySource.Name).AddAspNetCoreInstrumentation();
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            });
        return builder;
    }

    public static WebApplication MapConvServiceMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
