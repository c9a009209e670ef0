using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConvService.Api.Health;

/// <summary>Ready unless shutting down; backs /readyz and the grpc.health.v1 status.</summary>
public sealed class ReadinessHealthCheck(ReadinessState state) : IHealthCheck
{
    public const string Tag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsDraining
            ? HealthCheckResult.Unhealthy("shutting down: draining in-flight calls")
            : HealthCheckResult.Healthy("accepting calls"));
}
