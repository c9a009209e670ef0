using ConvService.Api.Hosting;
using Microsoft.AspNetCore.Connections;
using Serilog.Events;
using Serilog.Parsing;

namespace ConvService.Api.Tests;

/// <summary>A client dropping its connection mid-upload is not logged as a server error; real errors still are.</summary>
public sealed class ClientDisconnectLogFilterTests
{
    private static readonly ClientDisconnectLogFilter Filter = new();

    [Fact]
    public void GrpcsErrorForAnAbortedRequestStreamIsDropped()
    {
        var aborted = new IOException("The request stream was aborted.", new ConnectionAbortedException("The HTTP/2 connection faulted."));

        Assert.False(Filter.IsEnabled(Event("Grpc.AspNetCore.Server.ServerCallHandler", aborted)));
    }

    [Fact]
    public void OtherErrorsAndOtherSourcesAreKept()
    {
        var aborted = new IOException("The request stream was aborted.", new ConnectionAbortedException());

        Assert.True(Filter.IsEnabled(Event("Grpc.AspNetCore.Server.ServerCallHandler", new InvalidOperationException("bug"))));
        Assert.True(Filter.IsEnabled(Event("Grpc.AspNetCore.Server.ServerCallHandler", new IOException("disk"))));
        Assert.True(Filter.IsEnabled(Event("ConvService.Api.Grpc.RpcCallInterceptor", aborted)));
        Assert.True(Filter.IsEnabled(Event("Grpc.AspNetCore.Server.ServerCallHandler", null)));
    }

    private static LogEvent Event(string source, Exception? exception) => new(
        DateTimeOffset.UtcNow,
        LogEventLevel.Error,
        exception,
        new MessageTemplateParser().Parse("Error when executing service method 'Convolve'."),
        [new LogEventProperty("SourceContext", new ScalarValue(source))]);
}
