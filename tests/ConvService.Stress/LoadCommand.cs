using System.Diagnostics;

namespace ConvService.Stress;

/// <summary>
/// `load`: a closed loop of C clients for S seconds (each sends its next call as soon as the last
/// one ends) with checked small or medium workloads, mostly gRPC with every --rest-every'th call (default 4th) over REST.
/// Pass: every served answer correct, every refusal RESOURCE_EXHAUSTED / 429, something served,
/// and the service's RSS during the run under --max-rss-mb.
/// </summary>
public static class LoadCommand
{
    public static async Task RunAsync(StressArguments args, Scorecard scorecard)
    {
        int concurrency = args.Integer("concurrency", 8);
        var duration = TimeSpan.FromSeconds(args.Number("seconds", 20));
        string shape = args.Text("shape", "small");
        var deadline = TimeSpan.FromSeconds(args.Number("deadline-seconds", 30));
        double maxRssMiB = args.Number("max-rss-mb", 1024);
        // A refused client waits this long before its next call, as a polite retrying client would.
        var refusalPause = TimeSpan.FromMilliseconds(args.Number("refusal-pause-ms", 2));
        // Every Nth call of a client goes over REST (JSON), the rest over gRPC (raw_data); 0 means gRPC only.
        int restEvery = args.Integer("rest-every", 4);
        bool sharedConnection = args.Text("connections", "per-client") == "shared";
        int? pid = args.OptionalInteger("pid");
        string label = $"load {shape} x{concurrency}";
        using var clients = new ServiceClients(args.LoopbackUrl("grpc", "http://127.0.0.1:8081"), args.LoopbackUrl("rest", "http://127.0.0.1:8080"));
        var workloads = Workloads.ForShape(shape);
        var caller = new WorkloadCaller(clients);

        // Warm both paths (connections, JIT on both sides) so the first calls do not skew the percentiles.
        foreach (var workload in workloads)
        {
            await caller.GrpcAsync(workload, deadline, CancellationToken.None);
            await caller.RestAsync(workload, deadline, CancellationToken.None);
        }

        Console.WriteLine($"{label}: {concurrency} closed-loop clients for {duration.TotalSeconds:0} s, workloads {string.Join(", ", workloads.Select(w => $"{w.Name} ({w.Multiplications / 1e6:0.#}M mult)"))}");
        double? rssBefore = ProcessMemory.ResidentMiB(pid);
        var tally = new CallTally();
        var clock = Stopwatch.StartNew();
        await using (var sampler = new RssSampler(pid, TimeSpan.FromMilliseconds(100)))
        {
            var clientsTasks = Enumerable.Range(0, concurrency).Select(client => Task.Run(async () =>
            {
                // Each client has its own connections, as independent clients do; sharing one HTTP/2 connection would turn
                // overload into flow-control backpressure on that connection instead of exercising admission control.
                using var own = sharedConnection ? null : new ServiceClients(clients.GrpcUrl, clients.Rest.BaseAddress!);
                var clientCaller = own is null ? caller : new WorkloadCaller(own);
                for (int i = 0; clock.Elapsed < duration; i++)
                {
                    var workload = workloads[(client + i) % workloads.Count];
                    bool rest = restEvery > 0 && (client + i) % restEvery == restEvery - 1;
                    var result = rest
                        ? await clientCaller.RestAsync(workload, deadline, CancellationToken.None)
                        : await clientCaller.GrpcAsync(workload, deadline, CancellationToken.None);
                    tally.Add(result, rest ? "rest" : "grpc");
                    if (result.Verdict == CallVerdict.Refused)
                    {
                        await Task.Delay(refusalPause);
                    }
                }
            }));
            await Task.WhenAll(clientsTasks);
            clock.Stop();
            double seconds = clock.Elapsed.TotalSeconds;
            int served = tally[CallVerdict.Served], refused = tally[CallVerdict.Refused];
            int bad = tally[CallVerdict.WrongAnswer] + tally[CallVerdict.Failed] + tally[CallVerdict.CleanlyUnavailable];
            Console.WriteLine($"{label}: {tally.Total} calls in {seconds:0.0} s; served {served} ({served / seconds:0.0}/s), refused {refused} ({refused / seconds:0.0}/s), other {bad}");
            Console.WriteLine($"{label}: served latency {tally.ServedLatency.Summary()}");
            Console.WriteLine($"{label}: refusal latency {tally.RefusedLatency.Summary()}; refusals with a retry hint {tally.RetryHints}/{refused}");
            Console.WriteLine($"{label}: RSS before {ProcessMemory.Describe(rssBefore)}, peak during run {ProcessMemory.Describe(sampler.PeakMiB)}, lifetime peak (VmHWM) {ProcessMemory.Describe(ProcessMemory.PeakResidentMiB(pid))}");
            tally.Print();

            scorecard.Check($"{label}: every served answer correct", tally[CallVerdict.WrongAnswer] == 0 && served > 0, $"{served} served, {tally[CallVerdict.WrongAnswer]} wrong");
            scorecard.Check($"{label}: every refusal is RESOURCE_EXHAUSTED / 429, nothing else fails", bad == 0, $"{refused} refused, {bad} other");
            if (pid is not null)
            {
                scorecard.Check($"{label}: RSS under {maxRssMiB:0} MiB", sampler.PeakMiB is { } peak && peak <= maxRssMiB, $"peak {ProcessMemory.Describe(sampler.PeakMiB)}");
            }
        }

        await PoolChecks.ExpectDrainedAsync(clients.Metrics, label, scorecard);
    }
}
