using System.Net;
using ConvService.Api.Admission;
using ConvService.Api.Grpc;
using ConvService.Contract.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests;

/// <summary>The bounded compute pool: a full queue refuses at once with a retry hint; waiting calls honour deadlines.</summary>
public sealed class AdmissionTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private static ConvolveRequest Request(bool raw) => new()
    {
        Input = Tensors.Make(Tensors.Random(32, 1), raw, 1, 2, 4, 4),
        Weight = Tensors.Make(Tensors.Random(54, 2), raw, 3, 2, 3, 3),
    };

    /// <summary>These tests hold the only slot and need the small test request to queue behind it like any other.</summary>
    private static readonly (string, string) NoExpress = ("ConvService:ExpressMultiplications", "0");

    /// <summary>Takes the only compute slot, as a long computation would.</summary>
    private static ValueTask<IDisposable> HoldSlotAsync(WebApplicationFactory<Program> host) =>
        host.Services.GetRequiredService<ComputeAdmission>().EnterAsync(new CallRecord(), null, CancellationToken.None);

    [Fact]
    public async Task ACheapCallRunsInTheExpressSlotWhileAnExpensiveOneQueues()
    {
        // The test request costs 216 multiplications: cheap under a limit of 1000, expensive under 100.
        using var cheapHost = factory.WithSettings(("ConvService:MaxConcurrentComputations", "1"), ("ConvService:ExpressMultiplications", "1000"));
        using var expensiveHost = factory.WithSettings(("ConvService:MaxConcurrentComputations", "1"), ("ConvService:ExpressMultiplications", "100"));
        var cheapSlot = await HoldSlotAsync(cheapHost);
        var expensiveSlot = await HoldSlotAsync(expensiveHost);

        var served = await cheapHost.CreateConvolutionClient().ConvolveAsync(Request(true)).ResponseAsync.WaitAsync(TimeSpan.FromSeconds(10));
        var queued = expensiveHost.CreateConvolutionClient().ConvolveAsync(Request(true)).ResponseAsync;
        await Task.Delay(200);

        Assert.Equal([1L, 3, 2, 2], served.Output.Shape);
        Assert.False(queued.IsCompleted);
        expensiveSlot.Dispose();
        Assert.Equal([1L, 3, 2, 2], (await queued).Output.Shape);
        cheapSlot.Dispose();
    }

    [Fact]
    public async Task CheapCallsQueueOnlyBehindOtherCheapCalls()
    {
        using var host = factory.WithSettings(
            ("ConvService:MaxConcurrentComputations", "1"), ("ConvService:MaxQueuedComputations", "1"), ("ConvService:ExpressMultiplications", "1000"));
        var admission = host.Services.GetRequiredService<ComputeAdmission>();
        var regular = await HoldSlotAsync(host);
        var express = await HoldSlotAsync(host); // a cheap call already in the express slot

        var queued = host.CreateConvolutionClient().ConvolveAsync(Request(true)).ResponseAsync;
        await Task.Delay(200);
        Assert.False(queued.IsCompleted);
        Assert.Equal(1, admission.Snapshot().Queued);
        var refused = await Assert.ThrowsAsync<RpcException>(() => host.CreateConvolutionClient().ConvolveAsync(Request(true)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);

        express.Dispose(); // the express slot frees first: the cheap call does not wait for the long one
        Assert.Equal([1L, 3, 2, 2], (await queued).Output.Shape);
        regular.Dispose();
    }

    [Fact]
    public async Task FullQueueRefusesAtOnceWithRetryHint()
    {
        using var host = factory.WithSettings(("ConvService:MaxConcurrentComputations", "1"), NoExpress, ("ConvService:MaxQueuedComputations", "0"));
        var client = host.CreateConvolutionClient();
        var rest = host.CreateClient();
        var slot = await HoldSlotAsync(host);

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.ConvolveAsync(Request(true)).ResponseAsync);
        var response = await rest.PostJsonAsync("/v1/convolve", Request(false));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal("1000", ex.Trailers.GetValue("grpc-retry-pushback-ms"));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Contains("queue", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        slot.Dispose();
        var served = await client.ConvolveAsync(Request(true));
        Assert.Equal([1L, 3, 2, 2], served.Output.Shape);
    }

    [Fact]
    public async Task QueuedCallRunsWhenTheSlotFrees()
    {
        using var host = factory.WithSettings(("ConvService:MaxConcurrentComputations", "1"), NoExpress, ("ConvService:MaxQueuedComputations", "1"));
        var client = host.CreateConvolutionClient();
        var slot = await HoldSlotAsync(host);

        var queued = client.ConvolveAsync(Request(true)).ResponseAsync;
        await Task.Delay(200);
        Assert.False(queued.IsCompleted);
        slot.Dispose();

        Assert.Equal([1L, 3, 2, 2], (await queued).Output.Shape);
    }

    [Fact]
    public async Task ServerDeadlineStopsCallsWithoutOne()
    {
        using var host = factory.WithSettings(
            ("ConvService:MaxConcurrentComputations", "1"), NoExpress, ("ConvService:MaxQueuedComputations", "4"), ("ConvService:DefaultDeadlineSeconds", "0.2"));
        using var slot = await HoldSlotAsync(host);

        var ex = await Assert.ThrowsAsync<RpcException>(() => host.CreateConvolutionClient().ConvolveAsync(Request(true)).ResponseAsync);
        var response = await host.CreateClient().PostJsonAsync("/v1/convolve", Request(false));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Fact]
    public async Task ClientDeadlineReachesTheQueuedCall()
    {
        var sink = new CollectingSink();
        using var host = factory.WithSettings(("ConvService:MaxConcurrentComputations", "1"), NoExpress, ("ConvService:MaxQueuedComputations", "4"))
            .WithWebHostBuilder(builder => builder.ConfigureServices(services => services.AddSingleton<Serilog.Core.ILogEventSink>(sink)));
        using var slot = await HoldSlotAsync(host);

        // What the client reports at its own deadline is the client library's business; the server must see the deadline.
        await Assert.ThrowsAsync<RpcException>(() =>
            host.CreateConvolutionClient().ConvolveAsync(Request(true), deadline: DateTime.UtcNow.AddMilliseconds(200)).ResponseAsync);
        var completion = await sink.WaitForAsync(e => CollectingSink.Scalar(e, "RpcMethod") == "Convolve");

        Assert.Equal("DEADLINE_EXCEEDED", CollectingSink.Scalar(completion, "StatusCode"));
        Assert.Equal(0, host.Services.GetRequiredService<ComputeAdmission>().Snapshot().Queued);
    }

    [Fact]
    public async Task CancelledWaiterLeavesTheQueue()
    {
        var sink = new CollectingSink();
        using var host = factory.WithSettings(("ConvService:MaxConcurrentComputations", "1"), NoExpress, ("ConvService:MaxQueuedComputations", "1"))
            .WithWebHostBuilder(builder => builder.ConfigureServices(services => services.AddSingleton<Serilog.Core.ILogEventSink>(sink)));
        var client = host.CreateConvolutionClient();
        var slot = await HoldSlotAsync(host);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        await Assert.ThrowsAsync<RpcException>(() => client.ConvolveAsync(Request(true), cancellationToken: cancel.Token).ResponseAsync);
        var completion = await sink.WaitForAsync(e => CollectingSink.Scalar(e, "RpcMethod") == "Convolve");
        Assert.Equal("CANCELLED", CollectingSink.Scalar(completion, "StatusCode"));
        Assert.Equal(0, host.Services.GetRequiredService<ComputeAdmission>().Snapshot().Queued);

        // The queue's only place is free again: a new call waits for the slot instead of being refused.
        var next = client.ConvolveAsync(Request(true)).ResponseAsync;
        await Task.Delay(100);
        slot.Dispose();
        Assert.Equal([1L, 3, 2, 2], (await next).Output.Shape);
    }
}
