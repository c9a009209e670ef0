using ConvService.Api.Hosting;
using Serilog;

Log.Logger = LoggingSetup.CreateBootstrapLogger();
try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddBaseDirectoryDefaults()
        .ConfigureConvServiceEndpoints()
        .AddConvServiceLogging()
        .AddConvServiceTelemetry()
        .AddConvServiceHealth()
        .AddConvService();

    var app = builder.Build();
    app.MapConvService();
    app.MapConvServiceHealth();
    app.MapConvServiceMetrics();
    app.Run();
    return 0;
}
catch (Exception ex) when (ex is not HostAbortedException)
{
    Log.Fatal(ex, "ConvService failed to start or stopped unexpectedly");
    return 1;
}
finally
{
    Log.CloseAndFlush();
}

/// <summary>Entry point; public so WebApplicationFactory can host it in tests.</summary>
public partial class Program;
