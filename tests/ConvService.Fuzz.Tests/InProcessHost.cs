using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Fuzz.Tests;

/// <summary>
/// The real host in-process with a small request limit (so oversize cases stay cheap) and a
/// small compute pool, reached by gRPC and REST through the test server.
/// </summary>
public sealed class InProcessHost : IDisposable
{
    public const int MaxRequestBytes = 1 << 20;

    private readonly WebApplicationFactory<Program> factory;

    public InProcessHost()
    {
        factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("ConvService:MaxRequestBytes", MaxRequestBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("ConvService:MaxConcurrentComputations", "2");
            builder.UseSetting("ConvService:MaxQueuedComputations", "64");
            builder.UseSetting("ConvService:MaxMultiplications", "200000000");
            builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        });
        Rest = factory.CreateClient();
        var grpcClient = factory.CreateDefaultClient(new Http2VersionHandler());
        Channel = GrpcChannel.ForAddress(grpcClient.BaseAddress!, new GrpcChannelOptions { HttpClient = grpcClient, MaxReceiveMessageSize = null });
    }

    public HttpClient Rest { get; }

    public GrpcChannel Channel { get; }

    public void Dispose()
    {
        Channel.Dispose();
        Rest.Dispose();
        factory.Dispose();
    }
}
