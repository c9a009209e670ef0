using System.Net;
using ConvService.Api.Admission;
using ConvService.Api.Hosting;
using ConvService.Compute;
using ConvService.Contract.V1;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace ConvService.Api.Tests;

/// <summary>
/// The start-up warm-up: readiness waits for it (but calls are served meanwhile), it runs every kernel family the
/// planner can choose on this CPU, and a failing, hanging or disabled warm-up never keeps the service unready.
/// </summary>
public sealed class KernelWarmUpTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private const string WarmUpContext = "ConvService.Api.Hosting.KernelWarmUp";

    [Fact]
    public async Task ReadinessIsOffWhileTheWarmUpRunsAndOnOnceItEnds()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = KernelWarmUpCases.Default.Cases[0] with { Run = (engine, cancellationToken) =>
        {
            entered.TrySetResult();
            release.Task.Wait(cancellationToken);
            return KernelWarmUpCases.Default.Cases[0].Run(engine, cancellationToken);
        } };
        using var host = WithCases(factory, [held]);
        var client = host.CreateClient();
        var health = new global::Grpc.Health.V1.Health.HealthClient(host.CreateChannel());
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);
        // Readiness is advice to the balancer: a call that arrives anyway is served.
        var served = await host.CreateConvolutionClient().ConvolveAsync(new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(16, 1), true, 1, 4, 4),
            Weight = Tensors.Make(Tensors.Random(4, 2), true, 1, 1, 2, 2),
        });
        Assert.Equal([1L, 3, 3], served.Output.Shape);
        Assert.False(host.Services.GetRequiredService<KernelWarmUp>().Completion.IsCompleted);

        release.SetResult();
        var outcome = await host.WarmedUpAsync();

        Assert.Equal(WarmUpStatus.Completed, outcome.Status);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
    }

    [Fact]
    public async Task TheWarmUpRunsEveryFamilyThePlannerCanChooseAndLogsOneEvent()
    {
        var sink = new CollectingSink();
        using var host = factory.WithWebHostBuilder(builder => builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(sink)));

        var outcome = await host.WarmedUpAsync();

        var engine = host.Services.GetRequiredService<ThreadBudgetEngines>().For(running: 1);
        var plannable = PlannerSweep.Families(engine.Simd);
        var warmed = outcome.Algorithms.SelectMany(PlannerSweep.Split).ToHashSet();
        Assert.Equal(WarmUpStatus.Completed, outcome.Status);
        Assert.Empty(plannable.Except(warmed)); // every family the planner can pick here runs at start
        Assert.Empty(warmed.Except(plannable)); // and the sweep reaches every family the warm-up knows
        var logged = Assert.Single(sink.Events, e => CollectingSink.Scalar(e, "SourceContext") == WarmUpContext);
        Assert.Equal(LogEventLevel.Information, logged.Level);
        Assert.True(double.Parse(CollectingSink.Scalar(logged, "WarmUpMs")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        var algorithms = Assert.IsType<SequenceValue>(logged.Properties["Algorithms"]);
        Assert.Equal(outcome.Algorithms, algorithms.Elements.Select(e => ((ScalarValue)e).Value as string));
    }

    [Fact]
    public async Task AFailingWarmUpStillBecomesReadyAndWarns()
    {
        var sink = new CollectingSink();
        var failing = new WarmUpCase("failing", (_, _) => throw new InvalidOperationException("kernel exploded"));
        using var host = WithCases(factory, [KernelWarmUpCases.Default.Cases[0], failing], sink);

        var outcome = await host.WarmedUpAsync();

        Assert.Equal(WarmUpStatus.Failed, outcome.Status);
        Assert.Single(outcome.Algorithms); // the case before the failure ran
        Assert.Equal(HttpStatusCode.OK, (await host.CreateClient().GetAsync("/readyz")).StatusCode);
        var warning = Assert.Single(sink.Events, e => CollectingSink.Scalar(e, "SourceContext") == WarmUpContext);
        Assert.Equal(LogEventLevel.Warning, warning.Level);
        Assert.IsType<InvalidOperationException>(warning.Exception);
    }

    [Fact]
    public async Task AWarmUpThatOutlastsItsTimeoutBecomesReadyAndWarns()
    {
        var sink = new CollectingSink();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hanging = new WarmUpCase("hanging", (_, cancellationToken) =>
        {
            entered.TrySetResult();
            // Blocks until the warm-up's token is cancelled (a registered callback could be unregistered mid-cancel).
            cancellationToken.WaitHandle.WaitOne();
            cancelled.TrySetResult();
            cancellationToken.ThrowIfCancellationRequested();
            throw new InvalidOperationException("unreachable: the wait only ends by cancellation");
        });
        using var host = WithCases(factory, [hanging], sink, ("ConvService:WarmUpTimeoutSeconds", "0.5"));

        var outcome = await host.WarmedUpAsync();

        Assert.Equal(WarmUpStatus.TimedOut, outcome.Status);
        Assert.Equal(HttpStatusCode.OK, (await host.CreateClient().GetAsync("/readyz")).StatusCode);
        var warning = Assert.Single(sink.Events, e => CollectingSink.Scalar(e, "SourceContext") == WarmUpContext);
        Assert.Equal(LogEventLevel.Warning, warning.Level);
        // The abandoned work is told to stop. (On a starved machine its thread may not have reached the case within the
        // timeout; it then stops before the case, which the case cannot see.)
        if (entered.Task.IsCompleted)
        {
            await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task WarmUpAtStartFalseSkipsIt()
    {
        int runs = 0;
        var counting = new WarmUpCase("counting", (engine, cancellationToken) =>
        {
            Interlocked.Increment(ref runs);
            return KernelWarmUpCases.Default.Cases[0].Run(engine, cancellationToken);
        });
        var sink = new CollectingSink();
        using var host = WithCases(factory, [counting], sink, ("ConvService:WarmUpAtStart", "false"));

        var outcome = await host.WarmedUpAsync();

        Assert.Equal(WarmUpStatus.Skipped, outcome.Status);
        Assert.Empty(outcome.Algorithms);
        Assert.Equal(0, runs);
        Assert.Equal(HttpStatusCode.OK, (await host.CreateClient().GetAsync("/readyz")).StatusCode);
        Assert.DoesNotContain(sink.Events, e => CollectingSink.Scalar(e, "SourceContext") == WarmUpContext);
    }

    private static WebApplicationFactory<Program> WithCases(
        WebApplicationFactory<Program> factory, WarmUpCase[] cases, CollectingSink? sink = null, params (string Key, string Value)[] settings) =>
        factory.WithSettings(settings).WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            services.AddSingleton(new KernelWarmUpCases(cases));
            if (sink is not null)
            {
                services.AddSingleton<ILogEventSink>(sink);
            }
        }));
}
