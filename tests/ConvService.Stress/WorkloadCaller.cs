using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Grpc.Core;

namespace ConvService.Stress;

/// <summary>Sends a checked workload over gRPC or REST with a deadline and classifies the answer.</summary>
public sealed class WorkloadCaller(ServiceClients clients)
{
    public async Task<CallResult> GrpcAsync(CheckedWorkload workload, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var options = new CallOptions(deadline: DateTime.UtcNow + deadline, cancellationToken: cancellationToken);
            var response = await workload.CallGrpc(clients.Grpc, options).ResponseAsync;
            string? wrong = workload.Verify(response);
            return wrong is null
                ? new(CallVerdict.Served, "OK", "", clock.Elapsed.TotalMilliseconds, false)
                : new(CallVerdict.WrongAnswer, "OK", wrong, clock.Elapsed.TotalMilliseconds, false);
        }
        catch (RpcException e)
        {
            return Classify(e, clock.Elapsed.TotalMilliseconds);
        }
    }

    public async Task<CallResult> RestAsync(CheckedWorkload workload, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        using var request = new HttpRequestMessage(HttpMethod.Post, Fuzzing.ConvolutionRoutes.RestPath(workload.Method))
        {
            Content = new ByteArrayContent(workload.RestBody),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await clients.Rest.SendAsync(request, timeout.Token);
            string body = await response.Content.ReadAsStringAsync(timeout.Token);
            double ms = clock.Elapsed.TotalMilliseconds;
            string status = $"HTTP {(int)response.StatusCode}";
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    string? wrong = workload.Verify(CheckedWorkload.ParseRest(body));
                    return wrong is null ? new(CallVerdict.Served, status, "", ms, false) : new(CallVerdict.WrongAnswer, status, wrong, ms, false);
                case HttpStatusCode.TooManyRequests:
                    return new(CallVerdict.Refused, status, body, ms, response.Headers.RetryAfter is not null);
                case HttpStatusCode.ServiceUnavailable:
                    return new(CallVerdict.CleanlyUnavailable, status, body, ms, false);
                default:
                    return new(CallVerdict.Failed, status, Truncate(body), ms, false);
            }
        }
        catch (HttpRequestException e) when (IsConnectionRefused(e))
        {
            return new(CallVerdict.CleanlyUnavailable, "connection refused", e.Message, clock.Elapsed.TotalMilliseconds, false);
        }
        catch (HttpRequestException e)
        {
            return new(CallVerdict.Failed, "connection error", e.Message, clock.Elapsed.TotalMilliseconds, false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(CallVerdict.Failed, "deadline", $"no answer within {deadline.TotalSeconds:0.#} s", clock.Elapsed.TotalMilliseconds, false);
        }
    }

    private static CallResult Classify(RpcException e, double ms)
    {
        string status = e.StatusCode.ToString();
        switch (e.StatusCode)
        {
            case StatusCode.ResourceExhausted:
                bool hint = e.Trailers.Any(t => t.Key is "retry-after" or "grpc-retry-pushback-ms" or "grpc-status-details-bin");
                return new(CallVerdict.Refused, status, e.Status.Detail, ms, hint);
            case StatusCode.Unavailable when e.Status.DebugException is null || IsConnectionRefused(e.Status.DebugException):
                // Sent by the server itself (it refused the call), or the connection was never made: the call did not start.
                return new(CallVerdict.CleanlyUnavailable, status, e.Status.Detail, ms, false);
            default:
                string debug = e.Status.DebugException is { } d ? $" ({d.GetType().Name}: {d.Message})" : "";
                return new(CallVerdict.Failed, status, e.Status.Detail + debug, ms, false);
        }
    }

    private static bool IsConnectionRefused(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
