using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ConvService.Stress;

/// <summary>
/// One h2load child process (Debian's nghttp2-client) posting the same gRPC body over h2c prior knowledge,
/// with the counts from its summary and the per-request lines of its --log-file.
/// </summary>
public sealed partial class H2loadRun
{
    private H2loadRun(int exitCode, bool timedOut, string output, IReadOnlyList<(int Status, double Milliseconds)> requests)
    {
        ExitCode = exitCode;
        TimedOut = timedOut;
        Output = output;
        Requests = requests;
        Done = Count(DoneRegex(), 1);
        Started = Count(StartedRegex(), 1);
        Succeeded = Count(SucceededRegex(), 1);
        Failed = Count(FailedRegex(), 1);
        Errored = Count(ErroredRegex(), 1);
        TimedOutRequests = Count(TimeoutRegex(), 1);
    }

    public int ExitCode { get; }
    public bool TimedOut { get; }
    public string Output { get; }

    /// <summary>HTTP status and duration of every request h2load logged (those completed within the measured duration).</summary>
    public IReadOnlyList<(int Status, double Milliseconds)> Requests { get; }

    public long? Started { get; }
    public long? Done { get; }
    public long? Succeeded { get; }
    public long? Failed { get; }
    public long? Errored { get; }
    public long? TimedOutRequests { get; }

    /// <summary>The h2load executable on PATH (or the given path), or null when it is not installed.</summary>
    public static string? Locate(string command)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(command) ? command : null;
        }

        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Runs h2load for <paramref name="seconds"/> with C connections of one stream each; killed if it outlives <paramref name="timeout"/>.</summary>
    public static async Task<H2loadRun> RunAsync(
        string executable, Uri url, string bodyFile, string logFile, int connections, int seconds, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            "-H", "content-type: application/grpc",
            "-H", "te: trailers",
            "-d", bodyFile,
            "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-m", "1",
            "-D", seconds.ToString(CultureInfo.InvariantCulture),
            "--log-file", logFile,
            url.ToString(),
        ];
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"could not start {executable}: {e.Message}", e);
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        bool timedOut = false;
        using (var limit = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        string output = await stdout + await stderr;
        return new H2loadRun(process.ExitCode, timedOut, output, ReadLog(logFile));
    }

    /// <summary>Tab-separated lines: start time (µs since epoch), HTTP status, duration (µs).</summary>
    private static List<(int Status, double Milliseconds)> ReadLog(string logFile)
    {
        var requests = new List<(int, double)>();
        if (!File.Exists(logFile))
        {
            return requests;
        }

        foreach (string line in File.ReadLines(logFile))
        {
            string[] columns = line.Split('\t');
            if (columns.Length >= 3
                && int.TryParse(columns[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int status)
                && long.TryParse(columns[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out long micros))
            {
                requests.Add((status, micros / 1000.0));
            }
        }

        return requests;
    }

    private long? Count(Regex pattern, int group)
    {
        var match = pattern.Match(Output);
        return match.Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : null;
    }

    // h2load's summary line: "requests: 100 total, 100 started, 100 done, 100 succeeded, 0 failed, 0 errored, 0 timeout"
    [GeneratedRegex(@"requests: \d+ total, \d+ started, (\d+) done")]
    private static partial Regex DoneRegex();

    [GeneratedRegex(@"requests: \d+ total, (\d+) started")]
    private static partial Regex StartedRegex();

    [GeneratedRegex(@"(\d+) succeeded")]
    private static partial Regex SucceededRegex();

    [GeneratedRegex(@"(\d+) failed")]
    private static partial Regex FailedRegex();

    [GeneratedRegex(@"(\d+) errored")]
    private static partial Regex ErroredRegex();

    [GeneratedRegex(@"(\d+) timeout")]
    private static partial Regex TimeoutRegex();
}
