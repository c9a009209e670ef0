using ConvService.Contract.V1;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace ConvService.Api.Tests;

/// <summary>One completion event per call, with the agreed fields and the trace ids; no second per-request event.</summary>
public sealed class LoggingTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private const string InterceptorContext = "ConvService.Api.Grpc.RpcCallInterceptor";

    [Fact]
    public async Task EachCallWritesExactlyOneCompletionEvent()
    {
        var sink = new CollectingSink();
        // Serilog's ReadFrom.Services picks up sinks registered in the container.
        using var host = factory.WithWebHostBuilder(builder => builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(sink)));

        await host.CreateConvolutionClient().ConvolveAsync(new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(16, 1), true, 1, 4, 4),
            Weight = Tensors.Make(Tensors.Random(4, 2), true, 1, 1, 2, 2),
        });
        await host.CreateClient().PostJsonAsync("/v1/estimate-cost", new EstimateCostRequest { InputShape = { 3, 12 } });

        var completions = sink.Events.Where(e => Context(e) == InterceptorContext).ToList();
        Assert.Equal(2, completions.Count);
        var ok = Assert.Single(completions, e => Scalar(e, "RpcMethod") == "Convolve");
        Assert.Equal("OK", Scalar(ok, "StatusCode"));
        Assert.Equal("standard", Scalar(ok, "Kind"));
        Assert.Equal("36", Scalar(ok, "Multiplications"));
        Assert.Contains("1x1x4x4 -> 1x3x3", Scalar(ok, "Shape"), StringComparison.Ordinal);
        Assert.NotNull(Scalar(ok, "ElapsedMs"));
        Assert.NotNull(ok.TraceId);
        Assert.NotNull(ok.SpanId);
        var invalid = Assert.Single(completions, e => Scalar(e, "RpcMethod") == "EstimateCost");
        Assert.Equal("INVALID_ARGUMENT", Scalar(invalid, "StatusCode"));

        // Nothing else logs per request at Information or above (hosting, routing and gRPC's own events are turned down).
        Assert.DoesNotContain(sink.Events, e => e.Level >= LogEventLevel.Information
            && e.Properties.ContainsKey("RequestPath") && Context(e) != InterceptorContext);
    }

    [Fact]
    public async Task CallsRefusedBeforeTheServiceAlsoWriteOneEvent()
    {
        var sink = new CollectingSink();
        using var host = factory.WithSettings(("ConvService:MaxRequestBytes", "2000"))
            .WithWebHostBuilder(builder => builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(sink)));
        var bytes = global::Grpc.Core.Marshallers.Create<byte[]>(b => b, b => b);
        var method = new global::Grpc.Core.Method<byte[], byte[]>(global::Grpc.Core.MethodType.Unary, "conv.v1.Convolution", "EstimateCost", bytes, bytes);
        var rest = host.CreateClient();

        await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() =>
            host.CreateChannel().CreateCallInvoker().AsyncUnaryCall(method, null, new global::Grpc.Core.CallOptions(), [0x0A, 0xFF, 0xFF]).ResponseAsync);
        await rest.PostJsonAsync("/v1/convolve", "{\"input\":");
        await rest.PostJsonAsync("/v1/separable-convolve", "[" + new string(' ', 3000) + "]");

        var events = sink.Events.Where(e => Scalar(e, "RpcMethod") is not null).ToList();
        Assert.Equal(3, events.Count);
        Assert.Contains(events, e => Scalar(e, "RpcMethod") == "EstimateCost" && Scalar(e, "StatusCode") == "INVALID_ARGUMENT");
        Assert.Contains(events, e => Scalar(e, "RpcMethod") == "Convolve" && Scalar(e, "StatusCode") == "INVALID_ARGUMENT");
        Assert.Contains(events, e => Scalar(e, "RpcMethod") == "SeparableConvolve" && Scalar(e, "StatusCode") == "RESOURCE_EXHAUSTED");
        string metrics = await rest.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("conv_requests_total{", StringComparison.Ordinal)
            && l.Contains("rpc_method=\"SeparableConvolve\"", StringComparison.Ordinal) && l.Contains("rpc_grpc_status_code=\"RESOURCE_EXHAUSTED\"", StringComparison.Ordinal));
    }

    private static string? Context(LogEvent e) => Scalar(e, "SourceContext");

    private static string? Scalar(LogEvent e, string name) => CollectingSink.Scalar(e, name);
}
