using Serilog.Core;
using Serilog.Events;

namespace ConvService.Api.Hosting;

/// <summary>Adds " trace=…/span=…" for the text console format when the event happened inside a trace, nothing otherwise.</summary>
public sealed class TraceIdSuffixEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        string suffix = logEvent.TraceId is { } trace ? $" trace={trace} span={logEvent.SpanId}" : "";
        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("TraceIdSuffix", suffix));
    }
}
