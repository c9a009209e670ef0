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

    /// <summary>
    /// Rows the busiest of <paramref name="threads"/> threads computes when the bands of
    /// <paramref name="images"/> images are claimed in order, each by the first thread free.
    /// </summary>
    public long BusiestThreadRows(int images, int threads)
    {
        Span<long> busy = stackalloc long[Math.Clamp(threads, 1, 64)];
        for (int n = 0; n < images; n++)
        {
            foreach (int rows in Rows)
            {
                int free = 0;
                for (int t = 1; t < busy.Length; t++)
                {
                    free = busy[t] < busy[free] ? t : free;
                }

                busy[free] += rows;
            }
        }

        long max = 0;
        foreach (long b in busy)
        {
            max = Math.Max(max, b);
        }

        return max;
    }

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
