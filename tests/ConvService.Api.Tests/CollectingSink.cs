using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace ConvService.Api.Tests;

/// <summary>A Serilog sink that keeps every event, registered in the host's container (Serilog's ReadFrom.Services picks it up).</summary>
internal sealed class CollectingSink : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyCollection<LogEvent> Events => _events;

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    public static string? Scalar(LogEvent e, string name) =>
        e.Properties.TryGetValue(name, out var value) && value is ScalarValue scalar ? scalar.Value?.ToString() : null;

    /// <summary>Waits up to two seconds for an event that matches.</summary>
    public async Task<LogEvent> WaitForAsync(Func<LogEvent, bool> match)
    {
        for (int i = 0; i < 100; i++)
        {
            var found = _events.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("no matching log event");
    }
}
