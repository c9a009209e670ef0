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

    private static string? Context(LogEvent e) => Scalar(e, "SourceContext");

    private static string? Scalar(LogEvent e, string name) => CollectingSink.Scalar(e, name);
}
