using System.Diagnostics;
using System.Net.Http.Headers;
using Grpc.Core;

namespace ConvService.Stress;

/// <summary>
/// Measures how soon a cancelled computation leaves the compute pool: on an idle service, start
/// one costly call, wait until conv_computations_inflight shows it computing, cancel it (gRPC
/// cancel or REST abort), and time until the gauge reads 0 again. Compared with the time the same
/// computation takes when left alone.
/// </summary>
public sealed class CancellationProbe(ServiceClients clients, CheckedWorkload expensive)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(2);

    /// <summary>Wall time of the costly call when nobody cancels it, in ms; null when it was not served.</summary>
    public async Task<double?> UncancelledMillisecondsAsync()
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await expensive.CallGrpc(clients.Grpc, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(120))).ResponseAsync;
            return clock.Elapsed.TotalMilliseconds;
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>Milliseconds from cancelling a computing call to the pool reading empty; null when the call never showed up as computing.</summary>
    public async Task<double?> StopMillisecondsAsync(bool overRest)
    {
        using var cancel = new CancellationTokenSource();
        Task call = overRest ? RestCallAsync(cancel.Token) : GrpcCallAsync(cancel.Token);
        var waitStart = Stopwatch.StartNew();
        while ((await clients.Metrics.PoolGaugesAsync(CancellationToken.None)).Inflight is not >= 1)
        {
            if (call.IsCompleted || waitStart.Elapsed > TimeSpan.FromSeconds(10))
            {
                await call;
                return null;
            }

            await Task.Delay(PollInterval);
        }

        var stopClock = Stopwatch.StartNew();
        await cancel.CancelAsync();
        while ((await clients.Metrics.PoolGaugesAsync(CancellationToken.None)).Inflight is not 0 && stopClock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(PollInterval);
        }

        double stopped = stopClock.Elapsed.TotalMilliseconds;
        await call;
        return stopped;
    }

    private async Task GrpcCallAsync(CancellationToken cancellationToken)
    {
        try
        {
            await expensive.CallGrpc(clients.Grpc, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(120), cancellationToken: cancellationToken)).ResponseAsync;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled)
        {
            // the cancellation this probe asked for
        }
    }

    private async Task RestCallAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Fuzzing.ConvolutionRoutes.RestPath(expensive.Method))
        {
            Content = new ByteArrayContent(expensive.RestBody),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await clients.Rest.SendAsync(request, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // the abort this probe asked for
        }
    }
}
