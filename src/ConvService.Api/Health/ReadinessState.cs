namespace ConvService.Api.Health;

/// <summary>
/// Whether the service takes new work: off until the start-up warm-up has ended (when there is one), so a load
/// balancer does not send traffic to a cold process, and off again once shutdown begins (SIGTERM) so traffic drains away.
/// </summary>
public sealed class ReadinessState(bool warmingUp = false)
{
    private volatile bool _warmingUp = warmingUp;
    private volatile bool _draining;

    public bool IsWarmingUp => _warmingUp;

    public bool IsDraining => _draining;

    public void EndWarmUp() => _warmingUp = false;

    public void BeginDraining() => _draining = true;
}
