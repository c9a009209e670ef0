namespace ConvService.Stress;

/// <summary>Samples the service's VmRSS in the background so a run can report the peak during that run alone.</summary>
public sealed class RssSampler : IAsyncDisposable
{
    private readonly int? pid;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public RssSampler(int? pid, TimeSpan interval)
    {
        this.pid = pid;
        loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(interval);
            do
            {
                if (ProcessMemory.ResidentMiB(this.pid) is { } rss)
                {
                    PeakMiB = Math.Max(PeakMiB ?? 0, rss);
                }
            }
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false));
        });
    }

    public double? PeakMiB { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
            // stopped on purpose
        }

        stop.Dispose();
    }
}
