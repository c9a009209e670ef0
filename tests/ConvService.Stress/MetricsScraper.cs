using System.Globalization;

namespace ConvService.Stress;

/// <summary>Reads the service's Prometheus text at REST /metrics and sums a metric over its label sets.</summary>
public sealed class MetricsScraper(HttpClient rest)
{
    public async Task<string?> ScrapeAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            return await rest.GetStringAsync("/metrics", timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Sum of every sample named exactly <paramref name="metric"/> whose labels contain <paramref name="labelFilter"/>; null when absent.</summary>
    public static double? Sum(string exposition, string metric, string labelFilter = "")
    {
        double? total = null;
        foreach (string rawLine in exposition.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(metric, StringComparison.Ordinal))
            {
                continue;
            }

            string rest = line[metric.Length..];
            string labels = "";
            if (rest.StartsWith('{'))
            {
                int close = rest.IndexOf('}', StringComparison.Ordinal);
                if (close < 0)
                {
                    continue;
                }

                labels = rest[..(close + 1)];
                rest = rest[(close + 1)..];
            }
            else if (!rest.StartsWith(' '))
            {
                continue; // a longer name that shares the prefix
            }

            if (!labels.Contains(labelFilter, StringComparison.Ordinal))
            {
                continue;
            }

            string value = rest.Trim().Split(' ')[0];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed))
            {
                total = (total ?? 0) + parsed;
            }
        }

        return total;
    }

    /// <summary>
    /// Samples of <paramref name="metric"/> whose labels contain <paramref name="labelFilter"/>, summed per value of
    /// label <paramref name="labelName"/> (e.g. conv_requests_total of one rpc_method by rpc_grpc_status_code).
    /// </summary>
    public static Dictionary<string, double> SumByLabel(string exposition, string metric, string labelFilter, string labelName)
    {
        var totals = new Dictionary<string, double>(StringComparer.Ordinal);
        string key = labelName + "=\"";
        foreach (string rawLine in exposition.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            if (!line.StartsWith(metric + "{", StringComparison.Ordinal))
            {
                continue;
            }

            int close = line.IndexOf('}', StringComparison.Ordinal);
            if (close < 0)
            {
                continue;
            }

            string labels = line[metric.Length..(close + 1)];
            int at = labels.IndexOf(key, StringComparison.Ordinal);
            if (!labels.Contains(labelFilter, StringComparison.Ordinal) || at < 0)
            {
                continue;
            }

            int valueStart = at + key.Length;
            string labelValue = labels[valueStart..labels.IndexOf('"', valueStart)];
            string value = line[(close + 1)..].Trim().Split(' ')[0];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed))
            {
                totals[labelValue] = totals.GetValueOrDefault(labelValue) + parsed;
            }
        }

        return totals;
    }

    /// <summary>The compute pool's gauges: (inflight, queued), null where the service does not export them.</summary>
    public async Task<(double? Inflight, double? Queued)> PoolGaugesAsync(CancellationToken cancellationToken)
    {
        string? text = await ScrapeAsync(cancellationToken);
        return text is null ? (null, null) : (Sum(text, "conv_computations_inflight"), Sum(text, "conv_computations_queued"));
    }
}
