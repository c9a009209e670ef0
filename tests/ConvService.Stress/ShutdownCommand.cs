using System.Diagnostics;

namespace ConvService.Stress;

/// <summary>
/// `shutdown`: starts the published service, drives checked load over gRPC and REST, sends
/// SIGTERM mid-load and keeps calling. Pass: every call got a correct answer, a refusal, or a
/// clean UNAVAILABLE (sent by the server or connection refused: never started); none lost, hung or
/// INTERNAL; the process exits 0 within DrainSeconds + margin; readiness went false.
/// </summary>
public static class ShutdownCommand
{
    public static async Task RunAsync(StressArguments args, Scorecard scorecard)
    {
        string dll = args.OptionalText("dll") ?? throw new ArgumentException("shutdown needs --dll path/to/ConvService.Api.dll");
        int restPort = args.Integer("rest-port", 19180), grpcPort = args.Integer("grpc-port", 19181);
        int drainSeconds = args.Integer("drain-seconds", 10);
        int concurrency = args.Integer("concurrency", 8);
        double loadSeconds = args.Number("seconds-before-term", 3);
        double marginSeconds = args.Number("exit-margin-seconds", 5);
        string shape = args.Text("shape", "medium");
        var settings = new Dictionary<string, string>
        {
            ["ConvService__DrainSeconds"] = drainSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ConvService__MaxConcurrentComputations"] = args.Text("max-concurrent", "2"),
            ["ConvService__MaxQueuedComputations"] = args.Text("max-queued", "4"),
        };
        string logPath = args.Text("log", Path.Combine(Path.GetTempPath(), $"convservice-shutdown-{Environment.ProcessId}.log"));
        var workloads = Workloads.ForShape(shape);
        using var service = new ServiceProcess(dll, restPort, grpcPort, settings, logPath);
        using var clients = new ServiceClients(new Uri($"http://127.0.0.1:{grpcPort}"), new Uri($"http://127.0.0.1:{restPort}"));
        Console.WriteLine($"shutdown: started pid {service.Id} (log {logPath}), DrainSeconds {drainSeconds}, {concurrency} clients of {shape} workloads");

        bool ready = await WaitReadyAsync(clients.Rest, service, TimeSpan.FromSeconds(30));
        scorecard.Check("shutdown: service became ready", ready, "GET /readyz 200");
        if (!ready)
        {
            return;
        }

        var caller = new WorkloadCaller(clients);
        var beforeTerm = new CallTally();
        var afterTerm = new CallTally();
        var termClock = new Stopwatch();
        var exited = new TaskCompletionSource();
        var hardStop = Stopwatch.StartNew();
        bool KeepCalling() => !exited.Task.IsCompleted && hardStop.Elapsed < TimeSpan.FromSeconds(loadSeconds + drainSeconds + marginSeconds + 30);

        var load = Enumerable.Range(0, concurrency).Select(client => Task.Run(async () =>
        {
            for (int i = 0; KeepCalling(); i++)
            {
                var workload = workloads[(client + i) % workloads.Count];
                bool rest = client % 4 == 3;
                bool startedBeforeTerm = !termClock.IsRunning;
                var result = rest
                    ? await caller.RestAsync(workload, TimeSpan.FromSeconds(drainSeconds + 20), CancellationToken.None)
                    : await caller.GrpcAsync(workload, TimeSpan.FromSeconds(drainSeconds + 20), CancellationToken.None);
                if (!startedBeforeTerm && result.Status == "connection error")
                {
                    // Sent after SIGTERM on a keep-alive connection the stopping server was closing (HTTP/1.1 has no GOAWAY):
                    // a call the server never accepted. Before SIGTERM the same error would mean a lost call.
                    result = result with { Verdict = CallVerdict.CleanlyUnavailable, Status = "connection closed by the stopping server" };
                }

                (startedBeforeTerm ? beforeTerm : afterTerm).Add(result, rest ? "rest" : "grpc");
                if (result.Verdict is CallVerdict.Refused or CallVerdict.CleanlyUnavailable)
                {
                    await Task.Delay(5);
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(loadSeconds));
        int servedBeforeTerm = beforeTerm[CallVerdict.Served];
        termClock.Start();
        service.Terminate();
        Console.WriteLine($"shutdown: SIGTERM sent after {loadSeconds:0.#} s of load ({servedBeforeTerm} calls served so far)");
        bool readinessDropped = await ReadinessDropsAsync(clients.Rest, service, TimeSpan.FromSeconds(drainSeconds + marginSeconds));
        bool exitedInTime = await service.WaitForExitAsync(TimeSpan.FromSeconds(drainSeconds + marginSeconds));
        double exitSeconds = termClock.Elapsed.TotalSeconds;
        exited.TrySetResult();
        await Task.WhenAll(load);

        Console.WriteLine($"shutdown: {beforeTerm.Total} calls started before SIGTERM:");
        beforeTerm.Print();
        Console.WriteLine($"shutdown: {afterTerm.Total} calls started after SIGTERM:");
        afterTerm.Print();
        int lost = beforeTerm[CallVerdict.Failed] + afterTerm[CallVerdict.Failed];
        int wrong = beforeTerm[CallVerdict.WrongAnswer] + afterTerm[CallVerdict.WrongAnswer];
        scorecard.Check(
            "shutdown: no call lost, hung or INTERNAL",
            lost == 0 && wrong == 0,
            $"served {beforeTerm[CallVerdict.Served] + afterTerm[CallVerdict.Served]}, refused {beforeTerm[CallVerdict.Refused] + afterTerm[CallVerdict.Refused]}, " +
            $"clean UNAVAILABLE {beforeTerm[CallVerdict.CleanlyUnavailable] + afterTerm[CallVerdict.CleanlyUnavailable]}, lost/failed {lost}, wrong {wrong}");
        scorecard.Check(
            "shutdown: calls in flight at SIGTERM were answered",
            beforeTerm[CallVerdict.Served] > servedBeforeTerm || beforeTerm.Total == servedBeforeTerm,
            $"{beforeTerm[CallVerdict.Served] - servedBeforeTerm} calls started before SIGTERM were served after it");
        scorecard.Check("shutdown: readiness went false after SIGTERM", readinessDropped, "GET /readyz stopped answering 200");
        scorecard.Check(
            $"shutdown: exited 0 within DrainSeconds + {marginSeconds:0} s",
            exitedInTime && service.ExitCode == 0,
            exitedInTime ? $"exit code {service.ExitCode} after {exitSeconds:0.00} s" : $"still running after {exitSeconds:0.0} s (killed)");
    }

    private static async Task<bool> WaitReadyAsync(HttpClient rest, ServiceProcess service, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit && !service.HasExited)
        {
            if (await ReadyAsync(rest) == true)
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }

    private static async Task<bool> ReadinessDropsAsync(HttpClient rest, ServiceProcess service, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (service.HasExited || await ReadyAsync(rest) != true)
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }

    /// <summary>True for 200, false for another status, null when nothing answered.</summary>
    private static async Task<bool?> ReadyAsync(HttpClient rest)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            using var response = await rest.GetAsync("/readyz", timeout.Token);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }
}
