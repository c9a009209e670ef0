using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ConvService.Api.Hosting;

/// <summary>
/// Where Kestrel listens. Default: appsettings.json's Kestrel:Endpoints (REST HTTP/1.1 on localhost:8080,
/// gRPC h2c on localhost:8081), overridable per endpoint with Kestrel__Endpoints__Rest__Url /
/// Kestrel__Endpoints__Grpc__Url. When ASPNETCORE_URLS or --urls is given, those URLs replace the configured
/// endpoints; each then speaks HTTP/1.1 and HTTP/2, which on cleartext http:// means HTTP/1.1 only
/// (no ALPN), so gRPC needs https:// or Kestrel:EndpointDefaults:Protocols=Http2 there.
/// Kestrel:Limits (e.g. Limits:Http2 windows) and Kestrel:Sockets (SocketTransportOptions) are bound from configuration too.
/// </summary>
public static class EndpointSetup
{
    public static WebApplicationBuilder ConfigureConvServiceEndpoints(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Kestrel reads only endpoints from its section by itself; limits (e.g. Limits:Http2 flow-control windows) are bound here.
            builder.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
            // Body limits are per protocol: RequestBodyLimitMiddleware (REST, 413) and MaxReceiveMessageSize (gRPC).
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
        });

        // Socket transport settings from Kestrel:Sockets (appsettings.json turns off WaitForDataBeforeAllocatingBuffer: one
        // receive per read instead of a zero-byte wait first, which measured 5-9% less e2e time for S1 and S5 tensors).
        builder.WebHost.UseSockets(sockets => builder.Configuration.GetSection("Kestrel:Sockets").Bind(sockets));
        string? urls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        if (!string.IsNullOrWhiteSpace(urls))
        {
            // Kestrel prefers configured endpoints over URLs; drop them so the URLs the user gave take effect.
            var kestrelSettings = builder.Configuration.GetSection("Kestrel")
                .AsEnumerable(makePathsRelative: true)
                .Where(setting => setting.Value is not null && !setting.Key.StartsWith("Endpoints", StringComparison.OrdinalIgnoreCase));
            var withoutEndpoints = new ConfigurationBuilder().AddInMemoryCollection(kestrelSettings).Build();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Configure(withoutEndpoints, reloadOnChange: false));
            if (!urls.Contains("https://", StringComparison.OrdinalIgnoreCase)
                && builder.Configuration["Kestrel:EndpointDefaults:Protocols"] is not { } protocols)
            {
                Serilog.Log.Warning(
                    "Listening on {Urls} from ASPNETCORE_URLS/--urls: cleartext endpoints speak HTTP/1.1 only, so gRPC (h2c) is unavailable; " +
                    "use Kestrel__Endpoints__Grpc__Url, https://, or Kestrel__EndpointDefaults__Protocols={Http2} for gRPC",
                    urls, HttpProtocols.Http2);
            }
        }

        return builder;
    }
}
