using ConvService.Api.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ConvService.Api.Tests;

/// <summary>
/// After a burst of large requests the pools and the large-object heap held hundreds of MiB for good
/// (the stress fuzz's "RSS back near baseline" failed in long runs); an idle service now gives them back.
/// </summary>
public sealed class IdleMemoryTrimmerTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private const string Body = TestHost.SmallConvolveJson;

    [Fact]
    public async Task AnIdleServiceTrimsOnceAfterWorkAndStillServesAfterwards()
    {
        using var host = factory.WithSettings(("ConvService:IdleTrimSeconds", "0.3"));
        using var client = host.CreateClient();
        var trimmer = host.Services.GetServices<IHostedService>().OfType<IdleMemoryTrimmer>().Single();
        await Task.Delay(1500);
        Assert.Equal(0, trimmer.Trims); // nothing computed yet: nothing to give back

        (await client.PostJsonAsync("/v1/convolve", Body)).EnsureSuccessStatusCode();
        await WaitForAsync(() => trimmer.Trims >= 1);
        await Task.Delay(1500);
        Assert.Equal(1, trimmer.Trims); // once per idle period, not on every poll

        var response = await client.PostJsonAsync("/v1/convolve", Body);
        Assert.Contains("[4,4,4,4]", (await response.Content.ReadAsStringAsync()).Replace(" ", "", StringComparison.Ordinal));
        await WaitForAsync(() => trimmer.Trims >= 2);
    }

    [Fact]
    public async Task FollowUpCollectionsRunWhileIdleAndProbesDoNotCountAsActivity()
    {
        using var host = factory.WithSettings(("ConvService:IdleTrimSeconds", "0.3"));
        using var client = host.CreateClient();
        var trimmer = host.Services.GetServices<IHostedService>().OfType<IdleMemoryTrimmer>().Single();
        trimmer.FollowUpDelays = [TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1)];

        // A call that fails before any computation (invalid JSON) is activity too: its buffers are what the trim is for.
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await client.PostJsonAsync("/v1/convolve", "{\"input\":")).StatusCode);
        await WaitForAsync(() => trimmer.Trims == 1);
        // Health probes and scrapes while idle neither trigger a new trim nor hold the follow-ups back.
        var health = new global::Grpc.Health.V1.Health.HealthClient(host.CreateChannel());
        for (int i = 0; i < 10; i++)
        {
            (await client.GetAsync("/healthz")).EnsureSuccessStatusCode();
            await health.CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest());
            await Task.Delay(100);
        }

        await WaitForAsync(() => trimmer.FollowUps == 2);
        await Task.Delay(1500);
        Assert.Equal(1, trimmer.Trims);
        Assert.Equal(2, trimmer.FollowUps); // two, then nothing until the next call

        (await client.PostJsonAsync("/v1/convolve", Body)).EnsureSuccessStatusCode();
        await WaitForAsync(() => trimmer.Trims == 2 && trimmer.FollowUps == 4);
    }

    [Fact]
    public async Task ZeroTurnsTrimmingOff()
    {
        using var host = factory.WithSettings(("ConvService:IdleTrimSeconds", "0"));
        using var client = host.CreateClient();
        var trimmer = host.Services.GetServices<IHostedService>().OfType<IdleMemoryTrimmer>().Single();

        (await client.PostJsonAsync("/v1/convolve", Body)).EnsureSuccessStatusCode();
        await Task.Delay(1500);

        Assert.Equal(0, trimmer.Trims);
    }

    [Fact]
    public async Task DisposedWithoutStoppingItEndsQuietly()
    {
        // What a host that fails to start (its port taken) does: no StopAsync, only disposal. The loop used to end
        // cancelled, which the host logs as a failed BackgroundService (ERR + FTL) next to the real error.
        var options = Microsoft.Extensions.Options.Options.Create(new ConvService.Api.Configuration.ConvServiceOptions { IdleTrimSeconds = 5 });
        var trimmer = new IdleMemoryTrimmer(new RequestActivity(), options, Microsoft.Extensions.Logging.Abstractions.NullLogger<IdleMemoryTrimmer>.Instance);
        await trimmer.StartAsync(CancellationToken.None);
        await trimmer.Started.WaitAsync(TimeSpan.FromSeconds(10)); // as at a failed bind: the loop is already waiting
        trimmer.Dispose();

        await trimmer.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(trimmer.ExecuteTask.IsCompletedSuccessfully, $"the loop ended {trimmer.ExecuteTask.Status}");
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the idle trim did not happen within 10 s");
            await Task.Delay(50);
        }
    }
}
