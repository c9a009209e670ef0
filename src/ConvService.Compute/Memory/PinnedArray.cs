namespace ConvService.Compute.Memory;

/// <summary>
/// Plan-lifetime storage (packed weights, offset tables): a pinned array whose first element is
/// 64-byte aligned, so kernels can keep raw pointers to it for the plan's life.
/// </summary>
internal sealed unsafe class PinnedArray<T>
    where T : unmanaged
{
    // Kept referenced so the pinned-heap array lives as long as the plan.
    private readonly T[] storage;
    private readonly int start;

    public PinnedArray(long length)
    {
        int slack = 64 / sizeof(T);
        storage = GC.AllocateArray<T>(checked((int)length + slack), pinned: true);
        fixed (T* p = storage)
        {
            start = (int)((64 - ((nint)p & 63)) & 63) / sizeof(T);
        }

        Length = length;
        fixed (T* p = storage)
        {
            Pointer = p + start;
        }
    }

    public long Length { get; }

    /// <summary>Stable: the array lives on the pinned object heap.</summary>
    public T* Pointer { get; }

    public Span<T> AsSpan() => storage.AsSpan(start, (int)Length);
}
