namespace ConvService.Compute.Memory;

/// <summary>A rented, 64-byte aligned native buffer; return it with <see cref="Dispose"/> in a finally block.</summary>
internal readonly unsafe struct PooledBuffer : IDisposable
{
    private readonly int sizeClass;

    internal PooledBuffer(float* pointer, int sizeClass)
    {
        Pointer = pointer;
        this.sizeClass = sizeClass;
    }

    public float* Pointer { get; }

    public long Capacity => NativeBufferPool.CapacityOf(sizeClass);

    public void Dispose()
    {
        if (Pointer != null)
        {
            NativeBufferPool.Return(Pointer, sizeClass);
        }
    }
}
