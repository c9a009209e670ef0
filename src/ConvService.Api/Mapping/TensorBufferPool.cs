using System.Buffers;

namespace ConvService.Api.Mapping;

/// <summary>
/// Arrays behind request and response tensors, reused so large buffers stay warm (first touch of
/// fresh memory is slow on our VMs). A pool of our own, bounded to a few arrays per power-of-two
/// size up to 64 MiB, instead of ArrayPool.Shared, which keeps several arrays per size per core
/// and per thread: fuzzing with 16-32 MB bodies grew the service to 3.6 GB through it.
/// Worst-case retention: ArraysPerSize x (64 + 32 + 16 + ...) MiB for bytes, the same for floats.
/// </summary>
internal static class TensorBufferPool
{
    private const int MaxPooledBytes = 64 << 20;

    private static readonly int ArraysPerSize = Math.Max(2, Environment.ProcessorCount);

    public static ArrayPool<byte> Bytes { get; } = ArrayPool<byte>.Create(MaxPooledBytes, ArraysPerSize);

    public static ArrayPool<float> Floats { get; } = ArrayPool<float>.Create(MaxPooledBytes / sizeof(float), ArraysPerSize);
}
