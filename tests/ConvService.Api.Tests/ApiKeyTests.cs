using System.Net;
using System.Net.Http.Headers;
using ConvService.Contract.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

public sealed class ApiKeyTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private static readonly EstimateCostRequest Request = new() { InputShape = { 3, 12, 12 }, KernelSize = { 5 }, OutputChannels = 256 };

    private WebApplicationFactory<Program> WithKeys() =>
        factory.WithSettings(("ConvService:ApiKeys:0", "first-key"), ("ConvService:ApiKeys:1", "second-key"));

    [Fact]
    public async Task GrpcNeedsAKnownKeyWhenKeysAreConfigured()
    {
        using var host = WithKeys();
        var client = host.CreateConvolutionClient();

        var missing = await Assert.ThrowsAsync<RpcException>(() => client.EstimateCostAsync(Request).ResponseAsync);
        var wrong = await Assert.ThrowsAsync<RpcException>(() =>
            client.EstimateCostAsync(Request, new Metadata { { "authorization", "Bearer third-key" } }).ResponseAsync);
        var served = await client.EstimateCostAsync(Request, new Metadata { { "authorization", "Bearer second-key" } });

        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Equal(1_228_800, served.Standard.Multiplications);
    }

    [Fact]
    public async Task RestNeedsAKnownKeyWhenKeysAreConfigured()
    {
        using var host = WithKeys();
        var client = host.CreateClient();

        var missing = await client.PostJsonAsync("/v1/estimate-cost", Request);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "first-key");
        var served = await client.PostJsonAsync("/v1/estimate-cost", Request);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(1_228_800, (await served.ReadMessageAsync<EstimateCostResponse>()).Standard.Multiplications);
    }

    [Fact]
    public async Task HealthAndMetricsStayOpen()
    {
        using var host = WithKeys();
        var client = host.CreateClient();
        await host.WarmedUpAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics")).StatusCode);
        var health = await new global::Grpc.Health.V1.Health.HealthClient(host.CreateChannel()).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task NoKeysConfiguredMeansNoAuthentication()
    {
        var served = await factory.CreateConvolutionClient().EstimateCostAsync(Request);

        Assert.Equal(1_228_800, served.Standard.Multiplications);
    }
}
