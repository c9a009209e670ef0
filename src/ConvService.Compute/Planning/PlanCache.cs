namespace ConvService.Compute.Planning;

/// <summary>
/// Plans of recent one-shot calls, keyed by geometry and the exact weight values, so a service
/// that receives the same weights again (the common case: one model, many inputs) skips
/// planning and packing. A cheap sampled hash finds the candidate; a full comparison of every
/// weight and bias value confirms it. Bounded by entry count and by the floats it keeps.
/// </summary>
internal sealed class PlanCache
{
    private const int Samples = 64;
    private readonly Dictionary<Key, Entry> entries = [];
    private readonly int capacity;
    private readonly long maxFloats;
    private long storedFloats;
    private long clock;

    public PlanCache(int capacity, long maxFloats)
    {
        this.capacity = capacity;
        this.maxFloats = maxFloats;
    }

    public bool TryGet(object geometry, ReadOnlySpan<float> t0, ReadOnlySpan<float> t1, ReadOnlySpan<float> t2, ReadOnlySpan<float> t3, out ConvolutionPlan plan)
    {
        var key = new Key(geometry, Hash(geometry, t0, t1, t2, t3));
        lock (entries)
        {
            if (entries.TryGetValue(key, out var entry) && entry.Matches(t0, t1, t2, t3))
            {
                entry.LastUse = ++clock;
                plan = entry.Plan;
                return true;
            }
        }

        plan = null!;
        return false;
    }

    public void Add(object geometry, ReadOnlySpan<float> t0, ReadOnlySpan<float> t1, ReadOnlySpan<float> t2, ReadOnlySpan<float> t3, ConvolutionPlan plan)
    {
        long floats = (long)t0.Length + t1.Length + t2.Length + t3.Length;
        if (floats > maxFloats / 4)
        {
            return; // one huge model would evict everything else
        }

        var key = new Key(geometry, Hash(geometry, t0, t1, t2, t3));
        var entry = new Entry([t0.ToArray(), t1.ToArray(), t2.ToArray(), t3.ToArray()], plan);
        lock (entries)
        {
            if (entries.Remove(key, out var replaced))
            {
                storedFloats -= replaced.Floats;
            }

            while (entries.Count > 0 && (entries.Count >= capacity || storedFloats + floats > maxFloats))
            {
                EvictLeastRecentlyUsed();
            }

            entry.LastUse = ++clock;
            entries[key] = entry;
            storedFloats += floats;
        }
    }

    private void EvictLeastRecentlyUsed()
    {
        Key oldest = default;
        long oldestUse = long.MaxValue;
        foreach (var (key, entry) in entries)
        {
            if (entry.LastUse < oldestUse)
            {
                (oldest, oldestUse) = (key, entry.LastUse);
            }
        }

        entries.Remove(oldest, out var removed);
        storedFloats -= removed!.Floats;
    }

    private static int Hash(object geometry, ReadOnlySpan<float> t0, ReadOnlySpan<float> t1, ReadOnlySpan<float> t2, ReadOnlySpan<float> t3)
    {
        var hash = new HashCode();
        hash.Add(geometry);
        Sample(ref hash, t0);
        Sample(ref hash, t1);
        Sample(ref hash, t2);
        Sample(ref hash, t3);
        return hash.ToHashCode();
    }

    private static void Sample(ref HashCode hash, ReadOnlySpan<float> values)
    {
        hash.Add(values.Length);
        if (values.IsEmpty)
        {
            return;
        }

        long step = Math.Max(1, values.Length / Samples);
        for (long i = 0; i < values.Length; i += step)
        {
            hash.Add(BitConverter.SingleToInt32Bits(values[(int)i]));
        }

        hash.Add(BitConverter.SingleToInt32Bits(values[^1]));
    }

    private readonly record struct Key(object Geometry, int Hash);

    private sealed class Entry(float[][] tensors, ConvolutionPlan plan)
    {
        public ConvolutionPlan Plan { get; } = plan;
        public long LastUse { get; set; }
        public long Floats => (long)tensors[0].Length + tensors[1].Length + tensors[2].Length + tensors[3].Length;

        /// <summary>Bitwise equality (so -0 and NaN payloads count as different weights, which is only conservative).</summary>
        public bool Matches(ReadOnlySpan<float> t0, ReadOnlySpan<float> t1, ReadOnlySpan<float> t2, ReadOnlySpan<float> t3) =>
            Same(tensors[0], t0) && Same(tensors[1], t1) && Same(tensors[2], t2) && Same(tensors[3], t3);

        private static bool Same(float[] stored, ReadOnlySpan<float> given) =>
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(stored.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(given));
    }
}
