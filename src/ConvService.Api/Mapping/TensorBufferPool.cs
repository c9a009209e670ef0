using System.Buffers;

namespace ConvService.Api.Mapping;

/// <summary>
/// Arrays behind request and response tensors, reused so large buffers stay warm (first touch of
/// fresh memory is slow on our VMs). A pool of our own, bounded to a few arrays per power-of-two
/// size up to 64 MiB, instead of ArrayPool.Shared, which keeps several arrays per size per core
/// and per thread: fuzzing with 16-32 MB bodies grew the service to 3.6 GB through it.
/// Worst-case retention: ArraysPerSize x (64 + 32 + 16 + ...) MiB for bytes, the same for floats.
/// </summary>
public static class TensorBufferPool
{
    private const int MaxPooledBytes = 64 << 20;

    private static readonly int ArraysPerSize = Math.Max(2, Environment.ProcessorCount);

    private static ArrayPool<byte> bytes = NewBytePool();
    private static ArrayPool<float> floats = NewFloatPool();

    public static ArrayPool<byte> Bytes => Volatile.Read(ref bytes);

    public static ArrayPool<float> Floats => Volatile.Read(ref floats);

    /// <summary>
    /// Drops every pooled array (an idle service gives its memory back to the GC). Arrays rented
    /// before are returned to the new pools, which have the same size classes.
    /// </summary>
    public static void Trim()
    {
        Volatile.Write(ref bytes, NewBytePool());
        Volatile.Write(ref floats, NewFloatPool());
    }

    private static ArrayPool<byte> NewBytePool() => ArrayPool<byte>.Create(MaxPooledBytes, ArraysPerSize);

    private static ArrayPool<float> NewFloatPool() => ArrayPool<float>.Create(MaxPooledBytes / sizeof(float), ArraysPerSize);
}
