using System.Globalization;
using Serilog;
using Serilog.Formatting.Compact;

namespace ConvService.Api.Hosting;

/// <summary>
/// Serilog: a bootstrap console logger for startup, then the host's logger configured from the
/// "Serilog" section (levels, enrichers, extra sinks) plus one console sink whose format is
/// ConvService:LogFormat: "text" (readable, default) or "json" (Serilog compact JSON, one event per line, trace and span ids as @tr/@sp),
/// written asynchronously (Serilog.Sinks.Async) and flushed when the host stops.
/// </summary>
public static class LoggingSetup
{
    private const string TextTemplate =
        "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj} <{SourceContext}>{TraceIdSuffix}{NewLine}{Exception}";

    /// <summary>Events the console's background writer may hold before callers wait.</summary>
    private const int ConsoleBufferEvents = 10_000;

    public static Serilog.ILogger CreateBootstrapLogger() =>
        new LoggerConfiguration()
            .MinimumLevel.Information()
            .WriteTo.Console(formatProvider: CultureInfo.InvariantCulture)
            .CreateBootstrapLogger();

    public static WebApplicationBuilder AddConvServiceLogging(this WebApplicationBuilder builder)
    {
        // preserveStaticLogger: each host owns its logger, so several hosts (tests) can run in one process.
        builder.Services.AddSerilog(
            (services, logger) =>
            {
                var configuration = services.GetRequiredService<IConfiguration>();
                logger.ReadFrom.Configuration(configuration)
                    .ReadFrom.Services(services)
                    .Enrich.FromLogContext()
                    .Filter.With<ClientDisconnectLogFilter>();
                // The console is written from a background thread: formatting and the write to stdout (~20 us per event,
                // more when the reader of stdout is slow) stay off the request path. A full buffer makes callers wait
                // rather than drop events, so every call still gets its completion event.
                if (string.Equals(configuration["ConvService:LogFormat"], "json", StringComparison.OrdinalIgnoreCase))
                {
                    logger.WriteTo.Async(sink => sink.Console(new CompactJsonFormatter()), ConsoleBufferEvents, blockWhenFull: true);
                }
                else
                {
                    logger.Enrich.With<TraceIdSuffixEnricher>()
                        .WriteTo.Async(
                            sink => sink.Console(outputTemplate: TextTemplate, formatProvider: CultureInfo.InvariantCulture),
                            ConsoleBufferEvents,
                            blockWhenFull: true);
                }
            },
            preserveStaticLogger: true);
        return builder;
    }
}
