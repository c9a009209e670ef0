using ConvService.Contract.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

/// <summary>The agreed instruments (notes/METRICS.md) appear at GET /metrics in Prometheus text after calls of every kind.</summary>
public sealed class MetricsTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    [Fact]
    public async Task AgreedInstrumentsAreExportedForEveryKind()
    {
        var client = factory.CreateConvolutionClient();
        await client.ConvolveAsync(new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(16, 1), true, 1, 4, 4),
            Weight = Tensors.Make(Tensors.Random(4, 2), true, 1, 1, 2, 2),
        });
        await client.SeparableConvolveAsync(new SeparableConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(32, 1), false, 2, 4, 4),
            DepthwiseSeparable = new DepthwiseSeparable
            {
                DepthwiseWeight = Tensors.Make(Tensors.Random(18, 2), false, 2, 1, 3, 3),
                PointwiseWeight = Tensors.Make(Tensors.Random(6, 3), false, 3, 2, 1, 1),
            },
        });
        await client.SeparableConvolveAsync(new SeparableConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(32, 1), false, 2, 4, 4),
            SpatiallySeparable = new SpatiallySeparable { Column = { 1, 2 }, Row = { 3 } },
        });
        await Assert.ThrowsAsync<RpcException>(() => client.EstimateCostAsync(new EstimateCostRequest()).ResponseAsync);

        string text = await factory.CreateClient().GetStringAsync("/metrics");
        var lines = text.Split('\n');

        foreach (var kind in new[] { "standard", "depthwise_separable", "spatially_separable" })
        {
            Assert.Contains(lines, l => l.StartsWith("conv_compute_duration_seconds_bucket{", StringComparison.Ordinal)
                && l.Contains($"conv_kind=\"{kind}\"", StringComparison.Ordinal) && l.Contains("le=\"1E-05\"", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("conv_compute_duration_seconds_bucket{", StringComparison.Ordinal)
                && l.Contains($"conv_kind=\"{kind}\"", StringComparison.Ordinal) && l.Contains("le=\"10\"", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("conv_compute_duration_seconds_count{", StringComparison.Ordinal)
                && l.Contains($"conv_kind=\"{kind}\"", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("conv_multiplications_total{", StringComparison.Ordinal)
                && l.Contains($"conv_kind=\"{kind}\"", StringComparison.Ordinal));
        }

        Assert.Contains(lines, l => l.StartsWith("conv_requests_total{", StringComparison.Ordinal)
            && l.Contains("rpc_method=\"SeparableConvolve\"", StringComparison.Ordinal) && l.Contains("rpc_grpc_status_code=\"OK\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("conv_requests_total{", StringComparison.Ordinal)
            && l.Contains("rpc_method=\"EstimateCost\"", StringComparison.Ordinal) && l.Contains("rpc_grpc_status_code=\"INVALID_ARGUMENT\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("conv_queue_wait_seconds_bucket{", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("conv_computations_inflight", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("conv_computations_queued", StringComparison.Ordinal));
    }
}
