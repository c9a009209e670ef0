using Microsoft.AspNetCore.Connections;
using Serilog.Core;
using Serilog.Events;

namespace ConvService.Api.Hosting;

/// <summary>
/// Drops grpc-dotnet's error event for a client whose connection went away while its request was still arriving
/// ("The request stream was aborted"): that is the client's doing, not a server error, and the call already has its
/// one event, CANCELLED, from <see cref="RefusedCallMiddleware"/>. Other errors from grpc-dotnet are kept.
/// </summary>
public sealed class ClientDisconnectLogFilter : ILogEventFilter
{
    private const string GrpcCallHandler = "Grpc.AspNetCore.Server.ServerCallHandler";

    public bool IsEnabled(LogEvent logEvent) =>
        !(logEvent.Exception is IOException { InnerException: ConnectionAbortedException } or ConnectionAbortedException
          && logEvent.Properties.TryGetValue("SourceContext", out var source)
          && source is ScalarValue { Value: GrpcCallHandler });
}
