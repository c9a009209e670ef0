using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using Grpc.Core;

namespace ConvService.Stress;

/// <summary>
/// `faults`: for S seconds, clients that cancel costly calls mid-computation (short deadlines
/// and explicit cancellation, gRPC and REST), clients that drop their connection mid-call, and
/// slow readers of a 10 MB REST answer, while one well-behaved client (a separate process)
/// checks every answer it gets and must keep being served (a minimum rate and a bounded p99). Afterwards the compute pool must be empty and RSS back near its baseline.
/// </summary>
public static class FaultsCommand
{
    public static async Task RunAsync(StressArguments args, Scorecard scorecard)
    {
        var duration = TimeSpan.FromSeconds(args.Number("seconds", 20));
        int cancellers = args.Integer("cancellers", 2);
        int disconnectors = args.Integer("disconnectors", 1);
        int slowReaders = args.Integer("slow-readers", 1);
        double slackMiB = args.Number("rss-slack-mb", 256);
        int? pid = args.OptionalInteger("pid");
        using var clients = new ServiceClients(args.LoopbackUrl("grpc", "http://127.0.0.1:8081"), args.LoopbackUrl("rest", "http://127.0.0.1:8080"));
        var expensive = Workloads.Expensive();
        var large = Workloads.LargeOutput();
        // The well-behaved client must keep being served within a bounded wait. Not a share of its rate alone: with
        // 2 slots, FIFO admission and three clients looping 15-30 ms computations, its small call waits for one of them
        // to end or be cancelled about every time, so that share swung from 7 % to 56 % between runs of the same build.
        double minGoodRate = args.Number("min-good-rate", 10);
        double maxGoodP99Ms = args.Number("max-good-p99-ms", 1000);

        // The well-behaved client alone first: its rate under faults is judged against this.
        var alone = await WellBehavedClient.RunAsync(clients.GrpcUrl, clients.Rest.BaseAddress!, 3);
        Console.WriteLine($"faults: well-behaved client alone: {alone.Rate:0.0} calls/s, p50 {alone.P50:0.00} ms, p99 {alone.P99:0.00} ms");
        Console.WriteLine(
            $"faults: {duration.TotalSeconds:0} s; {cancellers} cancellers and {disconnectors} disconnectors of {expensive.Name} ({expensive.Multiplications / 1e9:0.00}G mult), " +
            $"{slowReaders} slow readers of {large.Name} ({large.RestBody.Length / 1e6:0.0} MB request), one well-behaved client (a process of its own, small workloads over gRPC)");

        double? rssBefore = ProcessMemory.ResidentMiB(pid);
        string? metricsBefore = await clients.Metrics.ScrapeAsync(CancellationToken.None);
        var faultOutcomes = new ConcurrentDictionary<string, int>();
        void Count(string outcome) => faultOutcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        var slowReadProblems = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        bool Running() => clock.Elapsed < duration;

        var wellBehaved = WellBehavedClient.RunAsync(clients.GrpcUrl, clients.Rest.BaseAddress!, duration.TotalSeconds);
        var tasks = new List<Task> { wellBehaved };
        for (int i = 0; i < cancellers; i++)
        {
            var random = new Random(100 + i);
            bool rest = i % 2 == 1;
            tasks.Add(Task.Run(async () =>
            {
                // Each canceller has its own connection, as separate clients would: Kestrel's rapid-reset defence may close a
                // connection that cancels many streams, and that must not be blamed on (or hit) the well-behaved client.
                using var own = new ServiceClients(clients.GrpcUrl, clients.Rest.BaseAddress!);
                while (Running())
                {
                    Count(rest ? await CancelRestAsync(own.Rest, expensive, random) : await CancelGrpcAsync(own, expensive, random));
                }
            }));
        }

        for (int i = 0; i < disconnectors; i++)
        {
            var random = new Random(200 + i);
            tasks.Add(Task.Run(async () =>
            {
                while (Running())
                {
                    Count(await DisconnectAsync(clients.GrpcUrl, expensive, random));
                }
            }));
        }

        for (int i = 0; i < slowReaders; i++)
        {
            int reader = i;
            tasks.Add(Task.Run(async () =>
            {
                for (int round = 0; Running(); round++)
                {
                    // Alternate: read 1 MB slowly and walk away (first, it is quick); or read the whole answer slowly and check it.
                    string? problem = await SlowReadAsync(clients.Rest, large, abandonAfterBytes: (reader + round) % 2 == 0 ? 1 << 20 : long.MaxValue);
                    Count($"slow reader ({((reader + round) % 2 == 0 ? "walks away after 1 MB" : "reads all")}): {(problem is null ? "ok" : "problem")}");
                    if (problem is not null)
                    {
                        slowReadProblems.Enqueue(problem);
                    }
                }
            }));
        }

        await Task.WhenAll(tasks);
        Console.WriteLine($"faults: ran {clock.Elapsed.TotalSeconds:0.0} s");
        foreach (var (outcome, count) in faultOutcomes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Scorecard.Report($"{count,7}  {outcome}");
        }

        var underFaults = await wellBehaved;
        Console.WriteLine($"faults: well-behaved client under faults: {underFaults.Rate:0.0} calls/s, p50 {underFaults.P50:0.00} ms, p99 {underFaults.P99:0.00} ms");
        foreach (string line in underFaults.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("  ", StringComparison.Ordinal) || l.StartsWith("FAIL", StringComparison.Ordinal)))
        {
            Scorecard.Report($"well-behaved client: {line.Trim()}");
        }

        scorecard.Check(
            "faults: well-behaved client keeps getting correct answers",
            underFaults.Passed && underFaults.Served > 0,
            $"{underFaults.Served} served, every answer checked (its own load run {(underFaults.Passed ? "passed" : "failed")})");
        scorecard.Check(
            $"faults: well-behaved client keeps being served: at least {minGoodRate:0} calls/s, p99 under {maxGoodP99Ms:0} ms",
            underFaults.Rate >= minGoodRate && underFaults.P99 <= maxGoodP99Ms,
            $"{underFaults.Rate:0.0} calls/s under faults vs {alone.Rate:0.0} alone (p99 {underFaults.P99:0.0} ms vs {alone.P99:0.0} ms)");
        int faultFailures = faultOutcomes.Where(kv => kv.Key.Contains("FAILED", StringComparison.Ordinal)).Sum(kv => kv.Value);
        scorecard.Check("faults: cancelled and dropped calls end cleanly", faultFailures == 0, $"{faultOutcomes.Values.Sum()} fault calls, {faultFailures} unexpected statuses");
        scorecard.Check("faults: slow readers get complete, correct answers", slowReadProblems.IsEmpty, slowReadProblems.FirstOrDefault() ?? "all reads ok");

        var drainClock = Stopwatch.StartNew();
        await PoolChecks.ExpectDrainedAsync(clients.Metrics, "faults", scorecard);
        Console.WriteLine($"faults: pool empty {drainClock.Elapsed.TotalMilliseconds:0} ms after the fault clients stopped");
        if (await clients.Metrics.ScrapeAsync(CancellationToken.None) is { } metrics)
        {
            // What the service itself counted during the run (client aborts the clients never hear about included).
            foreach (string code in new[] { "OK", "CANCELLED", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "UNKNOWN", "INTERNAL" })
            {
                string filter = $"rpc_grpc_status_code=\"{code}\"";
                double delta = (MetricsScraper.Sum(metrics, "conv_requests_total", filter) ?? 0) - (MetricsScraper.Sum(metricsBefore ?? "", "conv_requests_total", filter) ?? 0);
                Scorecard.Report($"conv_requests_total{{{filter}}} +{delta:0} during the run");
            }
        }

        await ProbeCancellationAsync(clients, expensive, args.Number("cancel-stop-ms", 50), scorecard);
        scorecard.Check("faults: service healthy afterwards", await clients.IsHealthyAsync(CancellationToken.None), "GET /healthz");
        await PoolChecks.ExpectMemoryBackAsync(pid, rssBefore, slackMiB, "faults", scorecard);
    }

    /// <summary>On the now idle service: how long a cancelled computation keeps its compute slot (gRPC cancel and REST abort).</summary>
    private static async Task ProbeCancellationAsync(ServiceClients clients, CheckedWorkload expensive, double limitMs, Scorecard scorecard)
    {
        var probe = new CancellationProbe(clients, expensive);
        double? alone = await probe.UncancelledMillisecondsAsync();
        foreach (bool overRest in new[] { false, true })
        {
            string how = overRest ? "REST abort" : "gRPC cancel";
            double? stop = await probe.StopMillisecondsAsync(overRest);
            string note = alone is { } full && full <= limitMs ? " (inconclusive: the whole computation is shorter than the limit)" : "";
            string aloneText = alone?.ToString("0", System.Globalization.CultureInfo.InvariantCulture) ?? "n/a";
            scorecard.Check(
                $"faults: {how} frees the compute slot within {limitMs:0} ms",
                stop is { } ms ? ms <= limitMs : note.Length > 0,
                stop is { } measured
                    ? $"slot free {measured:0.0} ms after cancelling; the same call uncancelled takes {aloneText} ms{note}"
                    : $"the call finished before it was seen computing; uncancelled it takes {aloneText} ms{note}");
        }
    }

    /// <summary>A costly call that gives up early: a 2-40 ms deadline, or an explicit cancel after 1-40 ms.</summary>
    private static async Task<string> CancelGrpcAsync(ServiceClients clients, CheckedWorkload expensive, Random random)
    {
        bool byDeadline = random.Next(2) == 0;
        using var cancel = new CancellationTokenSource();
        var deadline = DateTime.UtcNow + (byDeadline ? TimeSpan.FromMilliseconds(random.Next(2, 41)) : TimeSpan.FromSeconds(30));
        if (!byDeadline)
        {
            cancel.CancelAfter(random.Next(1, 41));
        }

        string how = byDeadline ? "grpc deadline" : "grpc cancel";
        try
        {
            var response = await expensive.CallGrpc(clients.Grpc, new CallOptions(deadline: deadline, cancellationToken: cancel.Token)).ResponseAsync;
            return expensive.Verify(response) is null ? $"{how}: completed first" : $"{how}: FAILED wrong answer";
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Cancelled or StatusCode.ResourceExhausted)
        {
            return $"{how}: {e.StatusCode}";
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable)
        {
            // The server closed this client's connection (e.g. HTTP/2 rapid-reset defence): its own doing, not a service failure.
            return $"{how}: Unavailable (connection closed by the server)";
        }
        catch (RpcException e)
        {
            return $"{how}: FAILED {e.StatusCode} {e.Status.Detail}";
        }
    }

    /// <summary>The costly call over REST, abandoned after 5-60 ms (the client closes the request).</summary>
    private static async Task<string> CancelRestAsync(HttpClient rest, CheckedWorkload expensive, Random random)
    {
        using var cancel = new CancellationTokenSource(random.Next(5, 61));
        using var request = new HttpRequestMessage(HttpMethod.Post, Fuzzing.ConvolutionRoutes.RestPath(expensive.Method))
        {
            Content = new ByteArrayContent(expensive.RestBody),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await rest.SendAsync(request, cancel.Token);
            int code = (int)response.StatusCode;
            return code is 200 or 429 ? $"rest cancel: HTTP {code} first" : $"rest cancel: FAILED HTTP {code}";
        }
        catch (OperationCanceledException)
        {
            return "rest cancel: cancelled";
        }
    }

    /// <summary>Starts the costly call on a channel of its own and disposes the channel 5-50 ms later (a client that vanishes).</summary>
    private static async Task<string> DisconnectAsync(Uri grpcUrl, CheckedWorkload expensive, Random random)
    {
        var channel = ServiceClients.CreateChannel(grpcUrl);
        var client = new Contract.V1.Convolution.ConvolutionClient(channel);
        var call = expensive.CallGrpc(client, new CallOptions(deadline: DateTime.UtcNow + TimeSpan.FromSeconds(30)));
        await Task.Delay(random.Next(5, 51));
        channel.Dispose();
        try
        {
            await call.ResponseAsync;
            return "disconnect: completed first";
        }
        catch (RpcException e)
        {
            // Whatever the client sees after pulling the plug is its own doing; the server side is checked through the pool gauges.
            return $"disconnect: {e.StatusCode}";
        }
        catch (ObjectDisposedException)
        {
            return "disconnect: channel disposed";
        }
        finally
        {
            call.Dispose();
        }
    }

    /// <summary>Reads a large REST answer 64 KB at a time with a pause between reads; returns a problem or null.</summary>
    private static async Task<string?> SlowReadAsync(HttpClient rest, CheckedWorkload large, long abandonAfterBytes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var request = new HttpRequestMessage(HttpMethod.Post, Fuzzing.ConvolutionRoutes.RestPath(large.Method))
        {
            Content = new ByteArrayContent(large.RestBody),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await rest.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if ((int)response.StatusCode is 429)
            {
                return null; // refused by admission control: allowed
            }

            if (!response.IsSuccessStatusCode)
            {
                return $"HTTP {(int)response.StatusCode}";
            }

            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var body = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                body.Write(buffer, 0, read);
                if (body.Length >= abandonAfterBytes)
                {
                    return null; // walk away mid-body; disposing the response drops the connection
                }

                await Task.Delay(10, timeout.Token);
            }

            return large.Verify(CheckedWorkload.ParseRest(System.Text.Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length)));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }
}
