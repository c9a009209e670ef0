using System.Text.Json;
using ConvService.Api.Admission;
using ConvService.Api.Configuration;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Hosting;

/// <summary>
/// Limits on REST bodies, checked before JSON transcoding reads anything: ConvService:MaxRequestBytes per body
/// (413 with a JSON status body; transcoding would turn a body-size failure into 400) and
/// ConvService:MaxRestBytesInFlight over all bodies being served (<see cref="RestBodyBudget"/>, 429 with
/// Retry-After). gRPC requests are left to MaxReceiveMessageSize (RESOURCE_EXHAUSTED).
/// </summary>
public sealed class RequestBodyLimitMiddleware(RequestDelegate next, IOptions<ConvServiceOptions> options, RestBodyBudget budget)
{
    /// <summary>Bodies without Content-Length are buffered in memory up to this size, on disk beyond.</summary>
    private const int MemoryBufferBytes = 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.IsGrpc())
        {
            await next(context);
            return;
        }

        long limit = options.Value.MaxRequestBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // Kestrel then also enforces the limit on the bytes actually sent.
            sizeFeature.MaxRequestBodySize = limit;
        }

        if (request.ContentLength is long length)
        {
            if (length > limit)
            {
                await RejectAsync(context, StatusCodes.Status413PayloadTooLarge,
                    $"the request body has {length} bytes; the limit is {limit} (ConvService:MaxRequestBytes)");
                return;
            }
        }
        else if (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method))
        {
            // A body of unknown length (chunked): read it up to the limit before transcoding sees it.
            request.EnableBuffering(MemoryBufferBytes, limit);
            try
            {
                await request.Body.DrainAsync(context.RequestAborted);
            }
            catch (IOException) when (!context.RequestAborted.IsCancellationRequested)
            {
                await RejectAsync(context, StatusCodes.Status413PayloadTooLarge,
                    $"the request body exceeds the limit of {limit} bytes (ConvService:MaxRequestBytes)");
                return;
            }

            request.Body.Position = 0;
        }

        long bodyBytes = request.ContentLength ?? (request.Body.CanSeek ? request.Body.Length : 0);
        if (bodyBytes == 0)
        {
            await next(context);
            return;
        }

        if (!budget.TryReserve(bodyBytes))
        {
            ComputeAdmission.SetRetryAfter(context.Response);
            await RejectAsync(context, StatusCodes.Status429TooManyRequests,
                $"{budget.InFlightBytes} bytes of REST request bodies are being served and this one has {bodyBytes}; the limit is " +
                $"{budget.LimitBytes} (ConvService:MaxRestBytesInFlight); retry after {ComputeAdmission.RetryAfter.TotalSeconds:0} s, " +
                "or send large tensors over gRPC as raw_data");
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            budget.Release(bodyBytes);
        }
    }

    private static async Task RejectAsync(HttpContext context, int statusCode, string message)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.Connection = "close";
        // The same shape as transcoding's error bodies (google.rpc.Status): code 8 = RESOURCE_EXHAUSTED.
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteNumber("code", 8);
        writer.WriteString("message", message);
        writer.WriteStartArray("details");
        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync();
    }
}
