using System.Globalization;

namespace ConvService.Benchmarks;

/// <summary>Command-line options of the peers command.</summary>
internal sealed record HarnessOptions
{
    public IReadOnlyList<int> Threads { get; init; } = [1];
    public IReadOnlyList<BenchShape> Shapes { get; init; } = ShapeCatalogue.Table;
    public string? CsvPath { get; init; }
    public bool Quick { get; init; }
    public TimeBox TimeBox { get; init; } = TimeBox.Full;

    public const string Usage =
        "peers [--threads 1,2] [--shapes S1,S5|table|extra|all] [--csv FILE] [--quick] [--max-seconds 3]\n" +
        "  --shapes       ids, or table (issue 3's S1-S8, the default), extra (X1-X10) or all\n" +
        "  --quick        every shape once at 1 thread, agreement checks only (CI)\n" +
        "  --max-seconds  cap on the timed runs of one case (default 3; at least 3 runs)";

    public static HarnessOptions Parse(string[] args)
    {
        var o = new HarnessOptions();
        bool threadsGiven = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--threads":
                    o = o with { Threads = Value().Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray() };
                    threadsGiven = true;
                    break;
                case "--shapes":
                    o = o with { Shapes = ShapeCatalogue.Select(Value()) };
                    break;
                case "--csv":
                    o = o with { CsvPath = Value() };
                    break;
                case "--quick":
                    o = o with { Quick = true, TimeBox = TimeBox.Once };
                    break;
                case "--max-seconds":
                    o = o with { TimeBox = o.TimeBox with { MaxSeconds = double.Parse(Value(), CultureInfo.InvariantCulture) } };
                    break;
                default:
                    throw new ArgumentException($"unknown option '{args[i]}'\n{Usage}");
            }
        }

        if (o.Quick && !threadsGiven)
        {
            o = o with { Threads = [1] };
        }

        if (o.Threads.Any(t => t < 1))
        {
            throw new ArgumentException("--threads must be positive");
        }

        return o;
    }
}
