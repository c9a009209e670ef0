using System.Globalization;
using System.Text;

namespace ConvService.Benchmarks;

/// <summary>Prints the results as an aligned table and writes them as CSV.</summary>
internal static class ResultTable
{
    public const string CsvHeader = "shape,threads,library,variant,median_ms,gflops,pct_peak,max_abs_diff";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Print(IReadOnlyList<Measurement> rows, TextWriter to)
    {
        string[] header = ["shape", "thr", "library", "variant", "median ms", "min ms", "runs", "GFLOP/s", "% peak",
            "peer/prep", "peer/1shot", "max|diff|", "alloc B/call", "algorithm / note"];
        var lines = new List<string[]> { header };
        foreach (var r in rows)
        {
            var ours = Ours(rows, r);
            bool peer = r.Library is not "convservice" && !r.IsPeak;
            lines.Add(
            [
                r.Shape, r.Threads.ToString(Inv), r.Library, r.Variant, Ms(r.MedianMs), r.IsPeak ? "" : Ms(r.MinMs), r.Runs.ToString(Inv),
                F(r.Gflops, "F1"), F(r.PctPeak, "F1"),
                peer ? Ratio(r.MedianMs, ours.Prepared) : "", peer ? Ratio(r.MedianMs, ours.OneShot) : "",
                r.IsPeak ? "" : F(r.MaxAbsDiff, "G3") + (r.Failed ? " FAIL" : ""),
                r.IsPeak ? "" : r.AllocatedBytesPerCall.ToString(Inv),
                r.Error ?? r.Algorithm,
            ]);
        }

        int[] widths = new int[header.Length];
        foreach (var line in lines)
        {
            for (int i = 0; i < line.Length; i++)
            {
                widths[i] = Math.Max(widths[i], line[i].Length);
            }
        }

        foreach (var line in lines)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < line.Length; i++)
            {
                // Text columns left-aligned, numbers right-aligned.
                bool text = i is 0 or 2 or 3 or 13;
                sb.Append(text ? line[i].PadRight(widths[i]) : line[i].PadLeft(widths[i])).Append("  ");
            }

            to.WriteLine(sb.ToString().TrimEnd());
        }
    }

    public static void WriteCsv(IReadOnlyList<Measurement> rows, string path)
    {
        var sb = new StringBuilder().AppendLine(CsvHeader);
        foreach (var r in rows)
        {
            sb.AppendLine(string.Join(',',
                r.Shape, r.Threads.ToString(Inv), r.Library, r.Variant,
                F(r.MedianMs, "0.######"), F(r.Gflops, "F2"), F(r.PctPeak, "F2"), F(r.MaxAbsDiff, "G4")));
        }

        File.WriteAllText(path, sb.ToString());
    }

    private static (double Prepared, double OneShot) Ours(IReadOnlyList<Measurement> rows, Measurement r)
    {
        double prepared = double.NaN, oneShot = double.NaN;
        foreach (var o in rows)
        {
            if (o.Shape == r.Shape && o.Threads == r.Threads && o.Library == "convservice" && o.Error is null)
            {
                if (o.Variant == "prepared")
                {
                    prepared = o.MedianMs;
                }
                else if (o.Variant == "one-shot")
                {
                    oneShot = o.MedianMs;
                }
            }
        }

        return (prepared, oneShot);
    }

    private static string Ratio(double peerMs, double oursMs) => F(peerMs / oursMs, "F2");

    private static string Ms(double ms) => double.IsNaN(ms) ? "" : ms < 1 ? ms.ToString("F4", Inv) : ms.ToString("F3", Inv);

    private static string F(double v, string format) => double.IsNaN(v) || double.IsInfinity(v) ? "" : v.ToString(format, Inv);
}
