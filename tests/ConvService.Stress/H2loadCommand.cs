using System.Buffers.Binary;
using System.Diagnostics;
using ConvService.Contract.V1;
using Google.Protobuf;

namespace ConvService.Stress;

/// <summary>
/// `h2load`: a second, independent load generator, nghttp2's h2load (C, HTTP/2), so the .NET client's own costs
/// are out of the figures. C connections of one stream each post the same unary gRPC call for S seconds.
/// h2load sees neither grpc-status (trailers) nor bodies, so the verdicts come from the service's
/// conv_requests_total delta (OK and RESOURCE_EXHAUSTED for at least every request h2load completed, nothing else
/// beyond the few it abandoned at its end), every HTTP status 200, and checked gRPC calls of the same workload right
/// after the run.
/// Pass also needs the service's RSS during the run under --max-rss-mb.
/// </summary>
public static class H2loadCommand
{
    private const string RequestsMetric = "conv_requests_total";

    public static async Task RunAsync(StressArguments args, Scorecard scorecard)
    {
        int connections = args.Integer("connections", 6);
        int seconds = args.Integer("seconds", 10);
        string shape = args.Text("shape", "small");
        var workloads = Workloads.ForShape(shape);
        string workloadName = args.Text("workload", workloads[0].Name);
        var workload = workloads.FirstOrDefault(w => w.Name == workloadName)
            ?? throw new ArgumentException($"--workload must be one of {string.Join(", ", workloads.Select(w => w.Name))}, got '{workloadName}'");
        double maxRssMiB = args.Number("max-rss-mb", 1024);
        // h2load's own -D bound plus this much for connecting, finishing and writing its log; killed beyond it.
        var processTimeout = TimeSpan.FromSeconds(seconds + args.Number("timeout-slack-seconds", 30));
        int verifyCalls = args.Integer("verify-calls", 5);
        var deadline = TimeSpan.FromSeconds(args.Number("deadline-seconds", 30));
        int? pid = args.OptionalInteger("pid");
        string label = $"h2load {workload.Name} x{connections}";

        string h2loadCommand = args.Text("h2load", "h2load");
        string? h2load = H2loadRun.Locate(h2loadCommand);
        if (h2load is null)
        {
            scorecard.Check($"{label}: h2load installed", false, $"'{h2loadCommand}' not found (PATH or the given path); install Debian's nghttp2-client (apt-get install nghttp2-client)");
            return;
        }

        using var clients = new ServiceClients(args.LoopbackUrl("grpc", "http://127.0.0.1:8081"), args.LoopbackUrl("rest", "http://127.0.0.1:8080"));
        var caller = new WorkloadCaller(clients);
        var url = new Uri(clients.GrpcUrl, $"/{Convolution.Descriptor.FullName}/{workload.Method}");
        string directory = Directory.CreateTempSubdirectory("convservice-h2load.").FullName;
        try
        {
            string bodyFile = Path.Combine(directory, "request.grpc");
            await File.WriteAllBytesAsync(bodyFile, GrpcFrame(workload.GrpcRequest));

            // Warm the service's path (JIT, plan cache) so the first requests do not skew the percentiles.
            for (int i = 0; i < 3; i++)
            {
                await caller.GrpcAsync(workload, deadline, CancellationToken.None);
            }

            Console.WriteLine($"{label}: {h2load} -c {connections} -m 1 -D {seconds} for {url} ({workload.Multiplications / 1e6:0.#}M mult, {new FileInfo(bodyFile).Length} byte body)");
            string before = await clients.Metrics.ScrapeAsync(CancellationToken.None)
                ?? throw new InvalidOperationException("could not read /metrics before the run");
            double? rssBefore = ProcessMemory.ResidentMiB(pid);
            H2loadRun run;
            double? peakRss;
            var clock = Stopwatch.StartNew();
            await using (var sampler = new RssSampler(pid, TimeSpan.FromMilliseconds(100)))
            {
                run = await H2loadRun.RunAsync(h2load, url, bodyFile, Path.Combine(directory, "requests.log"), connections, seconds, processTimeout);
                clock.Stop();
                peakRss = sampler.PeakMiB;
            }

            var delta = await StatusDeltaAsync(clients.Metrics, before, workload.Method, run.Done ?? 0, run.Started ?? 0);
            Report(label, run, delta, clock.Elapsed.TotalSeconds, rssBefore, peakRss, pid);
            Judge(label, run, delta, peakRss, pid, maxRssMiB, processTimeout, scorecard);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        // Served answers carry no body h2load can show us: the same call right after the run must still be answered correctly.
        var verified = new List<CallResult>();
        for (int i = 0; i < verifyCalls; i++)
        {
            verified.Add(await caller.GrpcAsync(workload, deadline, CancellationToken.None));
        }

        var wrong = verified.Where(r => r.Verdict != CallVerdict.Served).ToList();
        scorecard.Check(
            $"{label}: the same call over gRPC right after the run is answered correctly",
            verifyCalls > 0 && wrong.Count == 0,
            wrong.Count == 0 ? $"{verified.Count}/{verifyCalls} correct" : $"{wrong.Count} of {verifyCalls} not: {wrong[0].Verdict} {wrong[0].Status} {wrong[0].Detail}");
        await PoolChecks.ExpectDrainedAsync(clients.Metrics, label, scorecard);
    }

    /// <summary>A unary gRPC request body: flag byte 0 (not compressed), big-endian uint32 length, the protobuf bytes.</summary>
    public static byte[] GrpcFrame(IMessage message)
    {
        byte[] payload = message.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>
    /// conv_requests_total of one method by status code, after minus before. The counter is recorded as each call
    /// completes on the server, so poll until it has reached h2load's started count, or at least its done count and
    /// unchanged for a second (some started requests never leave h2load before it stops), up to 10 s.
    /// </summary>
    private static async Task<Dictionary<string, double>> StatusDeltaAsync(MetricsScraper metrics, string before, string method, long done, long started)
    {
        string filter = $"rpc_method=\"{method}\"";
        var start = MetricsScraper.SumByLabel(before, RequestsMetric, filter, "rpc_grpc_status_code");
        Dictionary<string, double> delta = [];
        double previousTotal = -1;
        var unchanged = Stopwatch.StartNew();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (await metrics.ScrapeAsync(CancellationToken.None) is { } text)
            {
                delta = MetricsScraper.SumByLabel(text, RequestsMetric, filter, "rpc_grpc_status_code")
                    .Select(pair => (pair.Key, Value: pair.Value - start.GetValueOrDefault(pair.Key)))
                    .Where(pair => pair.Value != 0)
                    .ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
                double total = delta.Values.Sum();
                if (total != previousTotal)
                {
                    unchanged.Restart();
                }

                if (total >= started || (total >= done && unchanged.Elapsed >= TimeSpan.FromSeconds(1)))
                {
                    break;
                }

                previousTotal = total;
            }

            await Task.Delay(200);
        }

        return delta;
    }

    private static void Report(string label, H2loadRun run, Dictionary<string, double> delta, double wallSeconds, double? rssBefore, double? peakRss, int? pid)
    {
        double served = delta.GetValueOrDefault("OK"), refused = delta.GetValueOrDefault("RESOURCE_EXHAUSTED");
        var latency = new LatencyRecorder();
        foreach (var (_, milliseconds) in run.Requests)
        {
            latency.Add(milliseconds);
        }

        Console.WriteLine($"{label}: h2load exit {run.ExitCode}{(run.TimedOut ? " (killed at the timeout)" : "")} after {wallSeconds:0.0} s; " +
            $"requests started {Show(run.Started)}, done {Show(run.Done)}, succeeded {Show(run.Succeeded)}, failed {Show(run.Failed)}, errored {Show(run.Errored)}, timeout {Show(run.TimedOutRequests)}");
        double measured = Math.Max(wallSeconds, 1e-9);
        Console.WriteLine($"{label}: throughput {(run.Done ?? 0) / measured:0.0} requests/s; served {served:0} ({served / measured:0.0}/s), refused {refused:0} ({refused / measured:0.0}/s)");
        Console.WriteLine($"{label}: grpc-status delta {string.Join(", ", delta.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value:0}"))}");
        Console.WriteLine($"{label}: latency of all requests (h2load cannot tell served from refused) {latency.Summary()}");
        Console.WriteLine($"{label}: RSS before {ProcessMemory.Describe(rssBefore)}, peak during run {ProcessMemory.Describe(peakRss)}, lifetime peak (VmHWM) {ProcessMemory.Describe(ProcessMemory.PeakResidentMiB(pid))}");
        foreach (string line in run.Output.Split('\n').Where(l => l.StartsWith("finished in", StringComparison.Ordinal) || l.StartsWith("status codes", StringComparison.Ordinal)))
        {
            Scorecard.Report($"h2load: {line.Trim()}");
        }
    }

    private static void Judge(
        string label, H2loadRun run, Dictionary<string, double> delta, double? peakRss, int? pid, double maxRssMiB, TimeSpan processTimeout, Scorecard scorecard)
    {
        scorecard.Check(
            $"{label}: h2load ran to its duration and exited 0",
            !run.TimedOut && run.ExitCode == 0 && run.Done is > 0,
            run.TimedOut ? $"killed after {processTimeout.TotalSeconds:0} s" : $"exit {run.ExitCode}, {Show(run.Done)} done" + (run.Done is null ? $"; output: {Tail(run.Output)}" : ""));

        int non200 = run.Requests.Count(r => r.Status != 200);
        bool allHttpOk = run.Requests.Count > 0 && non200 == 0 && run.Failed is 0 && run.Errored is 0 && run.TimedOutRequests is 0;
        scorecard.Check(
            $"{label}: every request answered HTTP 200 (gRPC status in trailers), none failed, errored or timed out",
            allHttpOk,
            $"{run.Requests.Count} logged, {non200} not 200; failed {Show(run.Failed)}, errored {Show(run.Errored)}, timeout {Show(run.TimedOutRequests)}");

        // h2load stops at its duration without waiting for the C requests still in flight (started but not done) and
        // closes their connections. The service still counts them: OK or RESOURCE_EXHAUSTED when it answered first,
        // CANCELLED when it saw the disconnect (also mid-body, where grpc-dotnet says UNKNOWN and the service's
        // RefusedCallMiddleware waits for Kestrel's abort signal). So: every completed request is OK or
        // RESOURCE_EXHAUSTED, only CANCELLED besides, and no more of those than h2load abandoned.
        long done = run.Done ?? -1, started = run.Started ?? -1, abandoned = started - done;
        double ok = delta.GetValueOrDefault("OK"), refused = delta.GetValueOrDefault("RESOURCE_EXHAUSTED");
        var cutOff = delta.Where(p => p.Key is "CANCELLED").ToList();
        var others = delta.Where(p => p.Key is not ("OK" or "RESOURCE_EXHAUSTED" or "CANCELLED")).ToList();
        double counted = delta.Values.Sum(), cutOffCount = cutOff.Sum(p => p.Value);
        scorecard.Check(
            $"{label}: every request h2load completed was answered OK or RESOURCE_EXHAUSTED",
            others.Count == 0 && ok > 0 && ok + refused >= done && counted <= started && cutOffCount <= abandoned,
            $"OK {ok:0}, RESOURCE_EXHAUSTED {refused:0}, other {(others.Count == 0 ? "none" : string.Join(", ", others.Select(p => $"{p.Key} {p.Value:0}")))}; " +
            $"counted {counted:0}, h2load done {Show(run.Done)}, started {Show(run.Started)}; " +
            $"cut off by h2load's end {(cutOff.Count == 0 ? "none" : string.Join(", ", cutOff.Select(p => $"{p.Key} {p.Value:0}")))} (at most the {abandoned} abandoned)");
        if (pid is not null)
        {
            scorecard.Check($"{label}: RSS under {maxRssMiB:0} MiB", peakRss is { } peak && peak <= maxRssMiB, $"peak {ProcessMemory.Describe(peakRss)}");
        }
    }

    private static string Show(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";

    private static string Tail(string output) => output.Length <= 400 ? output.Trim() : "..." + output[^400..].Trim();
}
