namespace ConvService.Benchmarks;

/// <summary>One row of the results: a library's variant on one shape at one thread count.</summary>
internal sealed record Measurement
{
    public required string Shape { get; init; }
    public required int Threads { get; init; }
    public required string Library { get; init; }
    public required string Variant { get; init; }
    public double MedianMs { get; init; } = double.NaN;
    public double MinMs { get; init; } = double.NaN;
    public int Runs { get; init; }
    public double Gflops { get; init; } = double.NaN;
    public double PctPeak { get; init; } = double.NaN;

    /// <summary>Largest |this output - our prepared output|; NaN where not compared (the peak row).</summary>
    public double MaxAbsDiff { get; init; } = double.NaN;

    /// <summary>1e-4 of the largest |output| of ours.</summary>
    public double Tolerance { get; init; } = double.NaN;
    public long AllocatedBytesPerCall { get; init; }
    public string Algorithm { get; init; } = "";

    /// <summary>Why the case could not run, if it could not.</summary>
    public string? Error { get; init; }

    public bool IsPeak => Shape == "peak";

    public bool Failed => Error is not null || (!IsPeak && !(MaxAbsDiff <= Tolerance));
}
