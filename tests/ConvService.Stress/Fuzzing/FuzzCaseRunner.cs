using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ConvService.Contract.V1;
using Grpc.Core;

namespace ConvService.Stress.Fuzzing;

/// <summary>
/// Sends fuzz cases and judges the answers. Allowed: OK (with a parseable body), or a client
/// error with a message: INVALID_ARGUMENT / RESOURCE_EXHAUSTED over gRPC, HTTP 400 / 413 / 429
/// over REST. Anything else (UNKNOWN, INTERNAL, 5xx, a deadline hit = a hang) is a failure.
/// </summary>
public sealed class FuzzCaseRunner(CallInvoker grpc, HttpClient rest, TimeSpan deadline)
{
    private static readonly HashSet<StatusCode> AllowedGrpcErrors = [StatusCode.InvalidArgument, StatusCode.ResourceExhausted];
    private static readonly HashSet<HttpStatusCode> AllowedHttpErrors =
        [HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.TooManyRequests];

    public Task<FuzzAnswer> RunAsync(FuzzCase fuzzCase, CancellationToken cancellationToken) =>
        fuzzCase.Transport == FuzzTransport.Grpc ? RunGrpcAsync(fuzzCase, cancellationToken) : RunRestAsync(fuzzCase, cancellationToken);

    private async Task<FuzzAnswer> RunGrpcAsync(FuzzCase fuzzCase, CancellationToken cancellationToken)
    {
        var options = new CallOptions(deadline: DateTime.UtcNow + deadline, cancellationToken: cancellationToken);
        try
        {
            byte[] response = await grpc.AsyncUnaryCall(ConvolutionRoutes.RawMethod(fuzzCase.Method), null, options, fuzzCase.Body);
            return ParsesAsResponse(fuzzCase.Method, response)
                ? new(true, "grpc:OK", "")
                : new(false, "grpc:OK", "OK with a body that does not parse as the response message");
        }
        catch (RpcException e)
        {
            string outcome = $"grpc:{e.StatusCode}";
            if (!AllowedGrpcErrors.Contains(e.StatusCode))
            {
                return new(false, outcome, e.Status.Detail + (e.Status.DebugException is { } debug ? $" ({debug.GetType().Name}: {debug.Message})" : ""));
            }

            return string.IsNullOrWhiteSpace(e.Status.Detail)
                ? new(false, outcome, "error without a message")
                : new(true, outcome, e.Status.Detail);
        }
    }

    private async Task<FuzzAnswer> RunRestAsync(FuzzCase fuzzCase, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        using var request = new HttpRequestMessage(HttpMethod.Post, ConvolutionRoutes.RestPath(fuzzCase.Method))
        {
            Content = new ByteArrayContent(fuzzCase.Body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpResponseMessage response;
        try
        {
            response = await rest.SendAsync(request, timeout.Token);
        }
        catch (HttpRequestException e) when (fuzzCase.Oversize)
        {
            // A server may close the connection instead of reading an oversized body to the end; the client then sees no status.
            return new(true, "rest:closed-on-oversize", e.Message);
        }
        catch (HttpRequestException e)
        {
            return new(false, "rest:connection-error", e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(false, "rest:timeout", $"no answer within {deadline.TotalSeconds:0.#} s");
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(timeout.Token);
            string outcome = $"rest:{(int)response.StatusCode}";
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return IsJson(body) ? new(true, outcome, "") : new(false, outcome, "200 with a body that is not JSON");
            }

            if (!AllowedHttpErrors.Contains(response.StatusCode))
            {
                return new(false, outcome, Truncate(body));
            }

            return string.IsNullOrWhiteSpace(body) ? new(false, outcome, "error without a message") : new(true, outcome, Truncate(body));
        }
    }

    private static bool ParsesAsResponse(string method, byte[] body)
    {
        try
        {
            _ = method == ConvolutionRoutes.EstimateCost ? (object)EstimateCostResponse.Parser.ParseFrom(body) : ConvolveResponse.Parser.ParseFrom(body);
            return true;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return false;
        }
    }

    private static bool IsJson(string body)
    {
        try
        {
            using var _ = JsonDocument.Parse(body);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
