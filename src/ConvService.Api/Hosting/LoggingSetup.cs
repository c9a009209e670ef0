using System.Globalization;
using Serilog;
using Serilog.Formatting.Compact;

namespace ConvService.Api.Hosting;

/// <summary>
/// Serilog: a bootstrap console logger for startup, then the host's logger configured from the
/// "Serilog" section (levels, enrichers, extra sinks) plus one console sink whose format is
/// ConvService:LogFormat: "text" (readable, default) or "json" (Serilog compact JSON, one event per line, trace and span ids as @tr/@sp).
/// </summary>
public static class LoggingSetup
{
    private const string TextTemplate =
        "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj} <{SourceContext}>{TraceIdSuffix}{NewLine}{Exception}";

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
                    .Enrich.FromLogContext();
                if (string.Equals(configuration["ConvService:LogFormat"], "json", StringComparison.OrdinalIgnoreCase))
                {
                    logger.WriteTo.Console(new CompactJsonFormatter());
                }
                else
                {
                    logger.Enrich.With<TraceIdSuffixEnricher>()
                        .WriteTo.Console(outputTemplate: TextTemplate, formatProvider: CultureInfo.InvariantCulture);
                }
            },
            preserveStaticLogger: true);
        return builder;
    }
}
