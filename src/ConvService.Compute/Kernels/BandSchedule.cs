namespace ConvService.Compute.Kernels;

/// <summary>
/// How one image's output rows are cut into bands for a given thread count: full bands of the
/// planned height in whole rounds (one band per thread), then the rows left over cut into one
/// near-equal piece per thread, so no thread runs a band alone at the end.
/// </summary>
internal sealed class BandSchedule
{
    private BandSchedule(int[] starts, int[] rows)
    {
        Starts = starts;
        Rows = rows;
    }

    /// <summary>First output row of each band.</summary>
    public int[] Starts { get; }

    /// <summary>Rows of each band, never more than the planned band height.</summary>
    public int[] Rows { get; }

    public int Count => Rows.Length;

    public static BandSchedule For(int height, int bandRows, int threads)
    {
        var rows = new List<int>();
        int fullBands = height / bandRows;
        int roundBands = threads <= 1 ? fullBands : fullBands / threads * threads;
        for (int i = 0; i < roundBands; i++)
        {
            rows.Add(bandRows);
        }

        // Fewer than threads * bandRows rows are left, so each piece is at most bandRows high.
        int left = height - (roundBands * bandRows);
        int pieces = Math.Min(Math.Max(1, threads), left);
        for (int p = 0; p < pieces; p++)
        {
            rows.Add((left * (p + 1) / pieces) - (left * p / pieces));
        }

        var starts = new int[rows.Count];
        for (int i = 1; i < starts.Length; i++)
        {
            starts[i] = starts[i - 1] + rows[i - 1];
        }

        return new BandSchedule(starts, [.. rows]);
    }
}
