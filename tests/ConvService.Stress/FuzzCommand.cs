using System.Collections.Concurrent;
using System.Diagnostics;
using ConvService.Stress.Fuzzing;

namespace ConvService.Stress;

/// <summary>
/// `fuzz`: thousands of hostile requests (broken shapes and payloads, random protobuf, random
/// JSON) over gRPC and REST against a running service. Every answer must be OK or a client error
/// with a message; afterwards the service must still be healthy, its pool empty and its memory
/// back near where it started.
/// </summary>
public static class FuzzCommand
{
    public static async Task RunAsync(StressArguments args, Scorecard scorecard)
    {
        int cases = args.Integer("cases", 5000);
        var duration = TimeSpan.FromSeconds(args.Number("seconds", 60));
        int parallel = args.Integer("parallel", 4);
        int seed = args.Integer("seed", 20261125);
        int firstCase = args.Integer("first-case", 0);
        int oversizeBytes = args.Integer("max-request-bytes", 64 * 1024 * 1024) + 1024;
        double slackMiB = args.Number("rss-slack-mb", 256);
        // --huge-dilations false leaves out dilations above 1024 (to tell their memory cost apart from the rest).
        bool hugeDilations = args.Text("huge-dilations", "true") != "false";
        int? pid = args.OptionalInteger("pid");
        using var clients = new ServiceClients(args.LoopbackUrl("grpc", "http://127.0.0.1:8081"), args.LoopbackUrl("rest", "http://127.0.0.1:8080"));
        var runner = new FuzzCaseRunner(clients.Channel.CreateCallInvoker(), clients.Rest, TimeSpan.FromSeconds(args.Number("deadline-seconds", 15)));

        Console.WriteLine($"fuzz: up to {cases} cases in {duration.TotalSeconds:0} s, {parallel} parallel, seed {seed}, oversize bodies {oversizeBytes} bytes");
        double? rssBefore = ProcessMemory.ResidentMiB(pid);
        var outcomes = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        int next = firstCase - 1, done = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, parallel), async (_, ct) =>
        {
            while (clock.Elapsed < duration)
            {
                int index = Interlocked.Increment(ref next);
                if (index >= firstCase + cases)
                {
                    break;
                }

                // One generator per case, seeded by (seed, index): any failing case can be replayed with --first-case.
                var generator = new FuzzCaseGenerator(new Random(unchecked((seed * 1_000_003) + index)), oversizeBytes, hugeDilations: hugeDilations);
                var fuzzCase = generator.Next(index % 2 == 0 ? FuzzTransport.Grpc : FuzzTransport.Rest);
                var answer = await runner.RunAsync(fuzzCase, ct);
                outcomes.AddOrUpdate($"{fuzzCase.Kind} -> {answer.Outcome}", 1, (_, n) => n + 1);
                Interlocked.Increment(ref done);
                if (!answer.Acceptable)
                {
                    failures.Enqueue($"case {index} ({fuzzCase.Kind} {fuzzCase.Method}, {fuzzCase.Body.Length} bytes): {answer.Outcome} {answer.Detail}");
                }
            }
        });
        clock.Stop();

        Console.WriteLine($"fuzz: {done} cases in {clock.Elapsed.TotalSeconds:0.0} s ({done / clock.Elapsed.TotalSeconds:0} cases/s)");
        foreach (var (outcome, count) in outcomes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Scorecard.Report($"{count,7}  {outcome}");
        }

        foreach (string failure in failures.Take(20))
        {
            Scorecard.Report($"bad answer: {failure}");
        }

        scorecard.Check("fuzz: every answer OK or a client error with a message", failures.IsEmpty && done > 0, $"{done} cases, {failures.Count} bad answers");
        scorecard.Check("fuzz: service healthy afterwards", await clients.IsHealthyAsync(CancellationToken.None), "GET /healthz");
        await PoolChecks.ExpectDrainedAsync(clients.Metrics, "fuzz", scorecard);
        await PoolChecks.ExpectMemoryBackAsync(pid, rssBefore, slackMiB, "fuzz", scorecard);
    }
}
