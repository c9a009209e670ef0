using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Tests;

/// <summary>Kestrel:Limits and Kestrel:Sockets from configuration reach Kestrel (it binds only endpoints by itself), e.g. the HTTP/2 flow-control windows.</summary>
public sealed class KestrelLimitsTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    [Fact]
    public void Http2WindowsDefaultToAppsettingsValues()
    {
        var limits = factory.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        // 16 MB per stream: a tensor message up to that size is sent without waiting for a WINDOW_UPDATE round trip.
        Assert.Equal(16 * 1024 * 1024, limits.Http2.InitialStreamWindowSize);
        Assert.Equal(32 * 1024 * 1024, limits.Http2.InitialConnectionWindowSize);
    }

    [Fact]
    public void Http2LimitsAreConfigurable()
    {
        using var host = factory.WithSettings(
            ("Kestrel:Limits:Http2:InitialStreamWindowSize", "1048576"),
            ("Kestrel:Limits:Http2:InitialConnectionWindowSize", "4194304"),
            ("Kestrel:Limits:Http2:MaxFrameSize", "65536"),
            ("Kestrel:Limits:KeepAliveTimeout", "00:00:42"));

        var limits = host.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(1048576, limits.Http2.InitialStreamWindowSize);
        Assert.Equal(4194304, limits.Http2.InitialConnectionWindowSize);
        Assert.Equal(65536, limits.Http2.MaxFrameSize);
        Assert.Equal(TimeSpan.FromSeconds(42), limits.KeepAliveTimeout);
    }

    [Fact]
    public void SocketTransportSettingsComeFromKestrelSockets()
    {
        var defaults = factory.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;
        using var host = factory.WithSettings(("Kestrel:Sockets:WaitForDataBeforeAllocatingBuffer", "true"), ("Kestrel:Sockets:IOQueueCount", "3"));
        var configured = host.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;

        // appsettings.json: read at once instead of waiting for data with a zero-byte receive first.
        Assert.False(defaults.WaitForDataBeforeAllocatingBuffer);
        Assert.True(configured.WaitForDataBeforeAllocatingBuffer);
        Assert.Equal(3, configured.IOQueueCount);
    }

    [Fact]
    public void RequestBodySizeStaysWithConvServiceMaxRequestBytes()
    {
        using var host = factory.WithSettings(("Kestrel:Limits:MaxRequestBodySize", "1000"));

        var limits = host.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        // Per protocol instead: RequestBodyLimitMiddleware (REST, 413) and MaxReceiveMessageSize (gRPC, RESOURCE_EXHAUSTED).
        Assert.Null(limits.MaxRequestBodySize);
    }
}
