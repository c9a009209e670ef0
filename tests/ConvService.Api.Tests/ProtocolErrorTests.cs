using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

/// <summary>Bodies that are not messages at all: clients get INVALID_ARGUMENT / 400, never UNKNOWN / 500.</summary>
public sealed class ProtocolErrorTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    [Theory]
    [InlineData("/conv.v1.Convolution/Convolve")]
    [InlineData("/conv.v1.Convolution/SeparableConvolve")]
    [InlineData("/conv.v1.Convolution/EstimateCost")]
    public async Task UnparsableProtobufIsInvalidArgument(string fullName)
    {
        string[] parts = fullName.Split('/');
        var method = new Method<byte[], byte[]>(MethodType.Unary, parts[1], parts[2], Bytes, Bytes);
        // 0x0A = field 1, length-delimited, then a length running past the end of the body.
        byte[] garbage = [0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x02];
        var invoker = factory.CreateChannel().CreateCallInvoker();

        var ex = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(method, null, new CallOptions(), garbage).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("not a valid", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"input\":")]
    [InlineData("not json at all")]
    [InlineData("{\"input\": {\"shape\": \"wide\"}}")]
    [InlineData("{\"options\": {\"padding_mode\": \"PADDING_MODE_ROUND\"}}")]
    public async Task MalformedJsonIs400(string json)
    {
        var response = await factory.CreateClient().PostJsonAsync("/v1/convolve", json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, body.RootElement.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task NonJsonContentTypeIs400()
    {
        var response = await factory.CreateClient().PostAsync("/v1/estimate-cost", new StringContent("{}", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("JSON", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
