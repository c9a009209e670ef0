using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ConvService.Stress;

/// <summary>
/// The well-behaved client of the faults run, in a process of its own (this program's `load` with
/// one gRPC client of the small workloads): run inside the faults process it would share a GC and
/// a CPU budget with the fault clients, and their allocation would be measured as the service's
/// slowness. Every answer it gets is checked by that `load` run.
/// </summary>
public static partial class WellBehavedClient
{
    public sealed record Result(bool Passed, int Served, double Rate, double P50, double P99, string Output);

    public static async Task<Result> RunAsync(Uri grpcUrl, Uri restUrl, double seconds)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(typeof(WellBehavedClient).Assembly.Location);
        }

        foreach (string arg in new[]
        {
            "load", "--grpc", grpcUrl.ToString(), "--rest", restUrl.ToString(), "--concurrency", "1", "--shape", "small",
            "--rest-every", "0", "--deadline-seconds", "10", "--seconds", seconds.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return new(false, 0, 0, double.NaN, double.NaN, "well-behaved client did not finish in time");
        }

        string output = await stdout + await stderr;
        var served = ServedPattern().Match(output);
        var latency = LatencyPattern().Match(output);
        return new(
            process.ExitCode == 0,
            served.Success ? int.Parse(served.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            served.Success ? double.Parse(served.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
            latency.Success ? double.Parse(latency.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN,
            latency.Success ? double.Parse(latency.Groups[2].Value, CultureInfo.InvariantCulture) : double.NaN,
            output);
    }

    [GeneratedRegex(@"served (\d+) \(([\d.]+)/s\)")]
    private static partial Regex ServedPattern();

    [GeneratedRegex(@"served latency p50 ([\d.]+) ms, p99 ([\d.]+) ms")]
    private static partial Regex LatencyPattern();
}
