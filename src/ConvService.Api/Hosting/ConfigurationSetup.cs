using Microsoft.Extensions.Configuration.Json;

namespace ConvService.Api.Hosting;

/// <summary>
/// The appsettings.json shipped next to the binary is the lowest-priority configuration source, so the
/// service keeps its defaults (ports, protocols, limits) when started from any working directory:
/// without it, `dotnet /app/ConvService.Api.dll` from elsewhere silently lost the h2c gRPC endpoint.
/// </summary>
public static class ConfigurationSetup
{
    public static WebApplicationBuilder AddBaseDirectoryDefaults(this WebApplicationBuilder builder)
    {
        var defaults = new JsonConfigurationSource
        {
            Path = Path.Combine(AppContext.BaseDirectory, "appsettings.json"),
            Optional = true,
            ReloadOnChange = false,
        };
        defaults.ResolveFileProvider();
        builder.Configuration.Sources.Insert(0, defaults);
        return builder;
    }
}
