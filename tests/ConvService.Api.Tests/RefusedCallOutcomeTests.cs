using ConvService.Api.Hosting;
using Microsoft.AspNetCore.Http;

namespace ConvService.Api.Tests;

/// <summary>
/// Calls refused before the service ran are counted by status. A client that aborts mid-upload was counted
/// as UNKNOWN (grpc-dotnet's status for it), which made the fault runs show server errors that were not.
/// </summary>
public sealed class RefusedCallOutcomeTests
{
    [Fact]
    public void AClientAbortIsCountedAsCancelledEvenWhenGrpcSaysUnknown()
    {
        var context = new DefaultHttpContext { RequestAborted = new CancellationToken(canceled: true) };
        context.Response.Headers["grpc-status"] = "2";

        var (code, detail) = RefusedCallMiddleware.Outcome(context);

        Assert.Equal("CANCELLED", code);
        Assert.Contains("cancelled or disconnected", detail);
    }

    [Fact]
    public async Task AnUnknownOutcomeWaitsForAnAbortKestrelSignalsALittleLater()
    {
        using var aborted = new CancellationTokenSource();
        var context = new DefaultHttpContext { RequestAborted = aborted.Token };
        context.Request.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = "2";
        var outcome = RefusedCallMiddleware.OutcomeAsync(context); // sees UNKNOWN and no abort yet, so it waits
        await aborted.CancelAsync();

        var (code, _) = await outcome;

        Assert.Equal("CANCELLED", code);
    }

    [Fact]
    public async Task AnUnknownOutcomeWithoutAnAbortStaysUnknownAfterTheGrace()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = "2";
        long started = System.Diagnostics.Stopwatch.GetTimestamp();

        var (code, _) = await RefusedCallMiddleware.OutcomeAsync(context);

        Assert.Equal("UNKNOWN", code);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) >= RefusedCallMiddleware.AbortGrace * 0.9);
    }

    [Fact]
    public async Task AnUnknownRestOutcomeDoesNotWait()
    {
        // An unmapped REST status (here 415) is reported at once: only gRPC's UNKNOWN can be a late-signalled abort.
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;

        var outcome = RefusedCallMiddleware.OutcomeAsync(context);

        Assert.True(outcome.IsCompleted);
        Assert.Equal("UNKNOWN", (await outcome).Code);
    }

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT")]
    [InlineData(413, "RESOURCE_EXHAUSTED")]
    [InlineData(429, "RESOURCE_EXHAUSTED")]
    [InlineData(503, "UNAVAILABLE")]
    public void RestRefusalsMapBackToTheirGrpcStatus(int httpStatus, string expected)
    {
        var context = new DefaultHttpContext();
        context.Response.StatusCode = httpStatus;

        Assert.Equal(expected, RefusedCallMiddleware.Outcome(context).Code);
    }

    [Fact]
    public void AGrpcStatusHeaderIsReportedByName()
    {
        var context = new DefaultHttpContext();
        context.Response.Headers["grpc-status"] = "3";
        context.Response.Headers["grpc-message"] = "bad%20body";

        Assert.Equal(("INVALID_ARGUMENT", "bad body"), RefusedCallMiddleware.Outcome(context));
    }
}
