using System.Globalization;

namespace ConvService.Stress;

/// <summary>Resident memory of the service process, read from /proc/PID/status (Linux).</summary>
public static class ProcessMemory
{
    /// <summary>Current resident set size in MiB, or null when the process is gone or no pid was given.</summary>
    public static double? ResidentMiB(int? pid) => ReadMiB(pid, "VmRSS:");

    /// <summary>Peak resident set size over the process's lifetime (VmHWM) in MiB.</summary>
    public static double? PeakResidentMiB(int? pid) => ReadMiB(pid, "VmHWM:");

    private static double? ReadMiB(int? pid, string key)
    {
        if (pid is null)
        {
            return null;
        }

        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    // "VmRSS:	  123456 kB"
                    string number = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.Parse(number, CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (IOException)
        {
            return null;
        }

        return null;
    }

    public static string Describe(double? mib) => mib is { } value ? $"{value:0.0} MiB" : "n/a";
}
