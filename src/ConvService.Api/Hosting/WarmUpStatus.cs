namespace ConvService.Api.Hosting;

/// <summary>How the start-up warm-up ended; every outcome but <see cref="Running"/> leaves the service ready.</summary>
public enum WarmUpStatus
{
    Running = 0,
    Completed,
    Skipped,
    Failed,
    TimedOut,
    Stopped,
}
