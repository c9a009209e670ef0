using System.Diagnostics;

namespace ConvService.Api.Telemetry;

/// <summary>The ActivitySource "ConvService": one span per computation, under the request's span.</summary>
public static class ConvActivitySource
{
    public const string Name = "ConvService";

    public static readonly ActivitySource Instance = new(Name);

    public static Activity? StartCompute(string kind, long multiplications)
    {
        var activity = Instance.StartActivity("conv.compute");
        activity?.SetTag("conv.kind", kind);
        activity?.SetTag("conv.multiplications", multiplications);
        return activity;
    }
}
