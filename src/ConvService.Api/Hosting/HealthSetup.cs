using ConvService.Api.Configuration;
using ConvService.Api.Health;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Hosting;

/// <summary>
/// Liveness (/healthz: the process answers), readiness (/readyz and grpc.health.v1: false until the start-up
/// warm-up has ended and once shutdown begins) and graceful shutdown (in-flight calls get up to ConvService:DrainSeconds).
/// </summary>
public static class HealthSetup
{
    public static WebApplicationBuilder AddConvServiceHealth(this WebApplicationBuilder builder)
    {
        // Not ready from the first probe on while a warm-up is due (KernelWarmUp ends it), whatever order services start in.
        builder.Services.AddSingleton(sp => new ReadinessState(warmingUp: sp.GetRequiredService<IOptions<ConvServiceOptions>>().Value.WarmUpAtStart));
        builder.Services
            .AddGrpcHealthChecks(options =>
            {
                options.Services.Map("", result => result.Tags.Contains(ReadinessHealthCheck.Tag));
                options.Services.Map("conv.v1.Convolution", result => result.Tags.Contains(ReadinessHealthCheck.Tag));
            })
            .AddCheck<ReadinessHealthCheck>("readiness", tags: [ReadinessHealthCheck.Tag]);
        builder.Services.AddOptions<HostOptions>()
            .Configure<IOptions<ConvServiceOptions>>((host, conv) => host.ShutdownTimeout = TimeSpan.FromSeconds(conv.Value.DrainSeconds));
        return builder;
    }

    public static WebApplication MapConvServiceHealth(this WebApplication app)
    {
        var readiness = app.Services.GetRequiredService<ReadinessState>();
        // SIGTERM: readiness goes false and new computations are refused (UNAVAILABLE) while Kestrel drains in-flight calls.
        app.Lifetime.ApplicationStopping.Register(readiness.BeginDraining);
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadinessHealthCheck.Tag) });
        app.MapGrpcHealthChecksService();
        return app;
    }
}
