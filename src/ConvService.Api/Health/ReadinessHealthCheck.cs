using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConvService.Api.Health;

/// <summary>Ready once the start-up warm-up has ended and until shutdown begins; backs /readyz and the grpc.health.v1 status.</summary>
public sealed class ReadinessHealthCheck(ReadinessState state) : IHealthCheck
{
    public const string Tag = "ready";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            state.IsDraining ? HealthCheckResult.Unhealthy("shutting down: draining in-flight calls")
            : state.IsWarmingUp ? HealthCheckResult.Unhealthy("warming up: running each kernel family once")
            : HealthCheckResult.Healthy("accepting calls"));
}
