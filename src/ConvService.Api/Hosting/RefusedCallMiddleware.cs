using System.Diagnostics;
using ConvService.Api.Grpc;
using ConvService.Api.Telemetry;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace ConvService.Api.Hosting;

/// <summary>
/// The completion event and conv.requests count for Convolution calls refused before the service ran
/// (unparsable protobuf or JSON, body over MaxRequestBytes), which <see cref="RpcCallInterceptor"/> never sees.
/// Calls the interceptor handled are left alone, so every call still has exactly one event.
/// </summary>
public sealed class RefusedCallMiddleware(RequestDelegate next, ConvMetrics metrics, ILogger<RefusedCallMiddleware> logger)
{
    /// <summary>
    /// How long a gRPC UNKNOWN outcome waits for RequestAborted: when a client's connection fails mid-upload, grpc-dotnet
    /// answers UNKNOWN at once while Kestrel cancels RequestAborted a moment later on the thread pool (h2load runs
    /// stopped by their time limit showed such calls as UNKNOWN server errors about once in six runs). With both cores
    /// saturated (h2load at 10x capacity) that moment once took longer than 100 ms, so the grace is 1 s; the wait ends
    /// as soon as the abort arrives, and only an UNKNOWN answer (never expected from this service) can wait it out.
    /// </summary>
    internal static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(1);

    public async Task InvokeAsync(HttpContext context)
    {
        long started = Stopwatch.GetTimestamp();
        await next(context);
        if (CallRecord.IsAttached(context)
            || context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method is not { ServiceName: "conv.v1.Convolution" } method)
        {
            return;
        }

        var (code, detail) = await OutcomeAsync(context);
        metrics.RecordRequest(method.Name, code);
        logger.LogInformation(
            "{RpcMethod} {StatusCode} in {ElapsedMs:0.###} ms: refused before the service ran: {StatusDetail}",
            method.Name, code, Stopwatch.GetElapsedTime(started).TotalMilliseconds, detail);
    }

    internal static async Task<(string Code, string Detail)> OutcomeAsync(HttpContext context)
    {
        var outcome = Outcome(context);
        if (outcome.Code == "UNKNOWN" && context.Request.IsGrpc() && !context.RequestAborted.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(AbortGrace, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return Outcome(context);
            }
        }

        return outcome;
    }

    internal static (string Code, string Detail) Outcome(HttpContext context)
    {
        // A client that gave up while its request was still arriving: its call was cancelled, not a server fault
        // (grpc-dotnet reports these as UNKNOWN, which made fault runs look like server errors).
        if (context.RequestAborted.IsCancellationRequested)
        {
            return ("CANCELLED", "the client cancelled or disconnected before the request was read");
        }

        var response = context.Response;
        string? grpcStatus = response.Headers["grpc-status"].FirstOrDefault()
            ?? context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].FirstOrDefault();
        if (grpcStatus is not null && int.TryParse(grpcStatus, out int value))
        {
            string message = response.Headers["grpc-message"].FirstOrDefault()
                ?? context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-message"].FirstOrDefault() ?? "";
            return (RpcErrors.CodeName((StatusCode)value), Uri.UnescapeDataString(message));
        }

        // REST: the inverse of transcoding's status mapping.
        string code = response.StatusCode switch
        {
            StatusCodes.Status200OK => "OK",
            StatusCodes.Status400BadRequest => "INVALID_ARGUMENT",
            StatusCodes.Status401Unauthorized => "UNAUTHENTICATED",
            StatusCodes.Status408RequestTimeout => "CANCELLED",
            StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests => "RESOURCE_EXHAUSTED",
            StatusCodes.Status503ServiceUnavailable => "UNAVAILABLE",
            StatusCodes.Status504GatewayTimeout => "DEADLINE_EXCEEDED",
            StatusCodes.Status500InternalServerError => "INTERNAL",
            _ => "UNKNOWN",
        };
        return (code, $"HTTP {response.StatusCode}");
    }
}
