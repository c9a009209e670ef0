using ConvService.Contract.V1;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

/// <summary>
/// Pooled request (raw_data) and response buffers are recycled between calls: many concurrent gRPC calls with different
/// inputs, the same weights (one cached plan) and both encodings must each get exactly their own answer.
/// </summary>
public sealed class PooledBufferTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    [Fact]
    public async Task ConcurrentCallsNeverSeeAnotherCallsBuffers()
    {
        const int c = 4, h = 24, w = 20, cout = 6, k = 3, calls = 48;
        using var host = factory.WithSettings(("ConvService:MaxConcurrentComputations", "4"), ("ConvService:MaxQueuedComputations", "100"));
        var client = host.CreateConvolutionClient();
        float[] weight = Tensors.Random(cout * c * k * k, 1);
        float[] bias = Tensors.Random(cout, 2);

        for (int wave = 0; wave < 3; wave++)
        {
            var pending = Enumerable.Range(0, calls).Select(async i =>
            {
                float[] input = Tensors.Random(c * h * w, 1000 * wave + i + 10);
                bool raw = i % 4 != 3;
                var response = await client.ConvolveAsync(new ConvolveRequest
                {
                    Input = Tensors.Make(input, raw, 1, c, h, w),
                    Weight = Tensors.Make(weight, raw, cout, c, k, k),
                    Bias = Tensors.Make(bias, raw, cout),
                    Options = new ConvOptions { Pads = { 1, 1, 1, 1 } },
                });
                var expected = ReferenceConvolution.Conv2d(input, 1, c, h, w, weight, cout, k, k, bias, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1);
                ReferenceConvolution.AssertClose(expected.Values, Tensors.Values(response.Output, raw));
            });
            await Task.WhenAll(pending);
        }
    }
}
