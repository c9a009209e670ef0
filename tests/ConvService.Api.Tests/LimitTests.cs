using System.Net;
using System.Text.Json;
using ConvService.Contract.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

/// <summary>Size limits (RESOURCE_EXHAUSTED / 413) and cost and element limits (RESOURCE_EXHAUSTED / 429).</summary>
public sealed class LimitTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    /// <summary>1x2x4x4 input, 3x2x3x3 weights: 3 * 2 * 2 outputs of 18 terms = 216 multiplications.</summary>
    private static ConvolveRequest SmallRequest(bool raw) => new()
    {
        Input = Tensors.Make(Tensors.Random(32, 1), raw, 1, 2, 4, 4),
        Weight = Tensors.Make(Tensors.Random(54, 2), raw, 3, 2, 3, 3),
    };

    private static ConvolveRequest LargeRequest() => new()
    {
        Input = Tensors.Make(Tensors.Random(2000, 1), true, 1, 1, 40, 50),
        Weight = Tensors.Make([1f], true, 1, 1, 1, 1),
    };

    [Fact]
    public async Task OversizeGrpcMessageIsResourceExhausted()
    {
        using var limited = factory.WithSettings(("ConvService:MaxRequestBytes", "4096"));

        var ex = await Assert.ThrowsAsync<RpcException>(() => limited.CreateConvolutionClient().ConvolveAsync(LargeRequest()).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task OversizeRestBodyIs413WithTheLimit()
    {
        using var limited = factory.WithSettings(("ConvService:MaxRequestBytes", "4096"));

        var response = await limited.CreateClient().PostJsonAsync("/v1/convolve", LargeRequest());

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("ConvService:MaxRequestBytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizeRestBodyWithoutContentLengthIs413()
    {
        using var limited = factory.WithSettings(("ConvService:MaxRequestBytes", "4096"));
        var json = System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(LargeRequest()));
        // A stream of unknown length goes out chunked, without Content-Length.
        var content = new StreamContent(new UnseekableStream(json));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var response = await limited.CreateClient().PostAsync("/v1/convolve", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task BodyUnderTheLimitWithoutContentLengthIsServed()
    {
        var json = System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(SmallRequest(false)));
        var content = new StreamContent(new UnseekableStream(json));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var response = await factory.CreateClient().PostAsync("/v1/convolve", content);

        Assert.Equal([1L, 3, 2, 2], (await response.ReadMessageAsync<ConvolveResponse>()).Output.Shape);
    }

    [Fact]
    public async Task CostOverTheLimitIsRefusedWithCostAndLimit()
    {
        using var limited = factory.WithSettings(("ConvService:MaxMultiplications", "100"));

        var ex = await Assert.ThrowsAsync<RpcException>(() => limited.CreateConvolutionClient().ConvolveAsync(SmallRequest(true)).ResponseAsync);
        var response = await limited.CreateClient().PostJsonAsync("/v1/convolve", SmallRequest(false));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("216 multiplications", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("limit is 100", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("216 multiplications", body.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ConvService:MaxInputElements", "31", "input has 32 elements")]
    [InlineData("ConvService:MaxOutputElements", "11", "output would have 12 elements")]
    public async Task ElementCountOverTheLimitIsRefused(string key, string limit, string message)
    {
        using var limited = factory.WithSettings((key, limit));

        var ex = await Assert.ThrowsAsync<RpcException>(() => limited.CreateConvolutionClient().ConvolveAsync(SmallRequest(true)).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains(message, ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARestOutputOverMaxRestOutputElementsIsRefusedBeforeComputing()
    {
        // A 1x1 input padded to 5600 x 5600: 31.36M output floats, more than even the longest JSON raw_data string can
        // hold (System.Text.Json's longest token, 31,249,999 floats); this answered 500 after computing before.
        const int pad = 2800;
        var request = new ConvolveRequest
        {
            Input = Tensors.Make([1f], true, 1, 1, 1, 1),
            Weight = Tensors.Make([2f], true, 1, 1, 1, 1),
            Options = new ConvOptions { Pads = { pad, pad, pad - 1, pad - 1 } },
        };
        using var client = factory.CreateClient();

        var response = await client.PostJsonAsync("/v1/convolve", request);

        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("31360000 elements", body, StringComparison.Ordinal);
        Assert.Contains("at most 4194304 (ConvService:MaxRestOutputElements)", body, StringComparison.Ordinal);
        Assert.Contains("gRPC", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxRestOutputElementsAppliesToRestOnly()
    {
        using var limited = factory.WithSettings(("ConvService:MaxRestOutputElements", "11"));
        using var client = limited.CreateClient();

        var rest = await client.PostJsonAsync("/v1/convolve", SmallRequest(false));
        var grpc = await limited.CreateConvolutionClient().ConvolveAsync(SmallRequest(true));

        Assert.Equal(HttpStatusCode.TooManyRequests, rest.StatusCode);
        Assert.Contains("would have 12 elements", await rest.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal([1L, 3, 2, 2], grpc.Output.Shape);
    }

    [Fact]
    public async Task ResponsesLargerThanFourMegabytesAreSent()
    {
        const int side = 1100; // 1100 x 1100 float32 = 4.84 MB each way
        var request = new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(side * side, 5), true, 1, 1, side, side),
            Weight = Tensors.Make([2f], true, 1, 1, 1, 1),
        };

        var response = await factory.CreateConvolutionClient().ConvolveAsync(request);

        Assert.Equal(side * side * sizeof(float), response.Output.RawData.Length);
        var input = Tensors.Values(request.Input, raw: true);
        var output = Tensors.Values(response.Output, raw: true);
        Assert.Equal(input[^1] * 2, output[^1]);
    }

    /// <summary>A read-only stream that does not report its length, so HttpClient cannot send Content-Length.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
