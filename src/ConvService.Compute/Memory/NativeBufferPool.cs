using System.Numerics;
using System.Runtime.InteropServices;

namespace ConvService.Compute.Memory;

/// <summary>
/// Process-wide pool of 64-byte aligned native float buffers in power-of-two size classes.
/// Freshly mapped memory is very slow to touch on the target VMs, so buffers are kept warm
/// across calls instead of being freed; a byte budget bounds what is retained. When the budget is
/// full, a returned buffer evicts buffers of the size classes used longest ago: otherwise, after a
/// burst of large requests filled it, every call of a new size paid for fresh memory until the service
/// went idle (measured: a 1x1 filter over 1M floats took 12 ms instead of 1.1 ms).
/// </summary>
internal static unsafe class NativeBufferPool
{
    private const int MinClass = 10;            // 1024 floats
    private const int MaxClass = 31;
    private const int MaxRetainedPerClass = 16;
    // 256 MiB: enough to keep every buffer of the benchmark shapes warm at 2 threads; a 1 GiB budget let
    // fuzzing with large requests park gigabytes here.
    private const long RetainedByteBudget = 256L << 20;

    private static readonly Stack<nint>[] Free = CreateStacks();
    private static readonly long[] LastUsed = new long[MaxClass + 1];
    private static long retainedBytes;
    private static long clock;

    /// <summary>Bytes of buffers the pool holds (for tests and diagnostics).</summary>
    internal static long RetainedBytes => Interlocked.Read(ref retainedBytes);

    internal static long Budget => RetainedByteBudget;

    /// <summary>Rents at least <paramref name="floats"/> floats; contents are undefined.</summary>
    public static PooledBuffer Rent(long floats)
    {
        int sizeClass = ClassOf(floats);
        Touch(sizeClass);
        var stack = Free[sizeClass];
        lock (stack)
        {
            if (stack.Count > 0)
            {
                Interlocked.Add(ref retainedBytes, -BytesOf(sizeClass)); // classes have separate locks
                return new PooledBuffer((float*)stack.Pop(), sizeClass);
            }
        }

        void* memory = NativeMemory.AlignedAlloc((nuint)BytesOf(sizeClass), 64);
        return new PooledBuffer((float*)memory, sizeClass);
    }

    internal static void Return(float* pointer, int sizeClass)
    {
        long bytes = BytesOf(sizeClass);
        Touch(sizeClass);
        while (bytes <= RetainedByteBudget && Interlocked.Read(ref retainedBytes) + bytes > RetainedByteBudget)
        {
            if (!EvictOneStale(sizeClass))
            {
                break;
            }
        }

        var stack = Free[sizeClass];
        lock (stack)
        {
            if (stack.Count < MaxRetainedPerClass && Interlocked.Read(ref retainedBytes) + BytesOf(sizeClass) <= RetainedByteBudget)
            {
                Interlocked.Add(ref retainedBytes, BytesOf(sizeClass));
                stack.Push((nint)pointer);
                return;
            }
        }

        NativeMemory.AlignedFree(pointer);
    }

    /// <summary>Frees one retained buffer of the class, other than <paramref name="keep"/>, used longest ago; false when there is none.</summary>
    private static bool EvictOneStale(int keep)
    {
        int stalest = -1;
        for (int c = MinClass; c < Free.Length; c++)
        {
            // Count read without the lock: a stale value only makes this pick another class or look again.
            if (c != keep && Free[c].Count > 0
                && (stalest < 0 || Interlocked.Read(ref LastUsed[c]) < Interlocked.Read(ref LastUsed[stalest])))
            {
                stalest = c;
            }
        }

        if (stalest < 0)
        {
            return false;
        }

        nint victim;
        var stack = Free[stalest];
        lock (stack)
        {
            if (stack.Count == 0)
            {
                return true; // taken meanwhile: look again
            }

            victim = stack.Pop();
            Interlocked.Add(ref retainedBytes, -BytesOf(stalest));
        }

        NativeMemory.AlignedFree((void*)victim);
        return true;
    }

    private static void Touch(int sizeClass) => Interlocked.Exchange(ref LastUsed[sizeClass], Interlocked.Increment(ref clock));

    /// <summary>Frees every retained buffer (an idle service gives its memory back); returns the bytes freed.</summary>
    public static long TrimAll()
    {
        long freed = 0;
        for (int sizeClass = 0; sizeClass < Free.Length; sizeClass++)
        {
            var stack = Free[sizeClass];
            lock (stack)
            {
                while (stack.Count > 0)
                {
                    NativeMemory.AlignedFree((void*)stack.Pop());
                    freed += BytesOf(sizeClass);
                }
            }
        }

        Interlocked.Add(ref retainedBytes, -freed);
        return freed;
    }

    internal static long CapacityOf(int sizeClass) => 1L << sizeClass;

    private static long BytesOf(int sizeClass) => CapacityOf(sizeClass) * sizeof(float);

    private static int ClassOf(long floats)
    {
        if (floats > 1L << MaxClass)
        {
            throw new ArgumentOutOfRangeException(nameof(floats), floats, "buffer too large");
        }

        int sizeClass = floats <= 1 ? 0 : 64 - BitOperations.LeadingZeroCount((ulong)(floats - 1));
        return Math.Max(MinClass, sizeClass);
    }

    private static Stack<nint>[] CreateStacks()
    {
        var stacks = new Stack<nint>[MaxClass + 1];
        for (int i = 0; i < stacks.Length; i++)
        {
            stacks[i] = new Stack<nint>(MaxRetainedPerClass);
        }

        return stacks;
    }
}
