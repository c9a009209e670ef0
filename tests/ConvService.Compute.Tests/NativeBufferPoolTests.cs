using ConvService.Compute.Memory;

namespace ConvService.Compute.Tests;

/// <summary>
/// The pool keeps buffers warm within its byte budget, and when the budget is full a returned buffer evicts
/// the size classes used longest ago instead of being freed itself. Not run in parallel with other tests:
/// they rent from the same process-wide pool.
/// </summary>
[Collection(NativeBufferPoolCollection.Name)]
public sealed unsafe class NativeBufferPoolTests
{
    [Fact]
    public void AReturnedBufferIsRentedAgain()
    {
        NativeBufferPool.TrimAll();
        nint first;
        using (var buffer = NativeBufferPool.Rent(5000))
        {
            first = (nint)buffer.Pointer;
            Assert.True(buffer.Capacity >= 5000);
            Assert.Equal(0, first % 64);
        }

        using var again = NativeBufferPool.Rent(5000);
        Assert.Equal(first, (nint)again.Pointer);
    }

    [Fact]
    public void WhenTheBudgetIsFullANewSizeEvictsTheStalestInsteadOfMissingEveryTime()
    {
        NativeBufferPool.TrimAll();
        // Fill the whole budget with 16 MiB buffers (one size class), as a burst of large requests would.
        long large = 4L << 20;
        int count = (int)(NativeBufferPool.Budget / (large * sizeof(float)));
        var held = new List<PooledBuffer>();
        for (int i = 0; i < count; i++)
        {
            held.Add(NativeBufferPool.Rent(large));
        }

        held.ForEach(b => b.Dispose());
        Assert.Equal(NativeBufferPool.Budget, NativeBufferPool.RetainedBytes);

        // A call of another size now: its buffer stays warm for the next call of that size.
        nint medium;
        using (var buffer = NativeBufferPool.Rent(1 << 20))
        {
            medium = (nint)buffer.Pointer;
        }

        using (var again = NativeBufferPool.Rent(1 << 20))
        {
            Assert.Equal(medium, (nint)again.Pointer);
        }

        Assert.True(NativeBufferPool.RetainedBytes <= NativeBufferPool.Budget);
        Assert.True(NativeBufferPool.RetainedBytes >= NativeBufferPool.Budget - (large * sizeof(float)));
        Assert.Equal(NativeBufferPool.RetainedBytes, NativeBufferPool.TrimAll());
        Assert.Equal(0, NativeBufferPool.RetainedBytes);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeBufferPoolCollection
{
    public const string Name = "native buffer pool";
}
