using System.Net;
using ConvService.Api.Health;
using ConvService.Contract.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests;

public sealed class HealthTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    [Fact]
    public async Task LivenessAndReadinessAnswerOverHttp()
    {
        var client = factory.CreateClient();
        await factory.WarmedUpAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("conv.v1.Convolution")]
    public async Task GrpcHealthIsServing(string service)
    {
        var health = new global::Grpc.Health.V1.Health.HealthClient(factory.CreateChannel());
        await factory.WarmedUpAsync();

        var response = await health.CheckAsync(new HealthCheckRequest { Service = service });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task ReflectionListsTheService()
    {
        var reflection = new ServerReflection.ServerReflectionClient(factory.CreateChannel());
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Contains(call.ResponseStream.Current.ListServicesResponse.Service, s => s.Name == "conv.v1.Convolution");
    }

    [Fact]
    public async Task DrainingTurnsReadinessOffAndRefusesNewWork()
    {
        using var host = factory.WithSettings(("ConvService:DrainSeconds", "1"));
        var client = host.CreateClient();
        host.Services.GetRequiredService<ReadinessState>().BeginDraining();

        var ready = await client.GetAsync("/readyz");
        var live = await client.GetAsync("/healthz");
        var health = await new global::Grpc.Health.V1.Health.HealthClient(host.CreateChannel()).CheckAsync(new HealthCheckRequest());
        var ex = await Assert.ThrowsAsync<RpcException>(() => host.CreateConvolutionClient().ConvolveAsync(new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(16, 1), true, 1, 4, 4),
            Weight = Tensors.Make(Tensors.Random(4, 2), true, 1, 1, 2, 2),
        }).ResponseAsync);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, health.Status);
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }
}
