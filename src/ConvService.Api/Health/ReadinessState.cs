namespace ConvService.Api.Health;

/// <summary>Whether the service takes new work; turned off once when shutdown begins (SIGTERM) so traffic drains away.</summary>
public sealed class ReadinessState
{
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public void BeginDraining() => _draining = true;
}
