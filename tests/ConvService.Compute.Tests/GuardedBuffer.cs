using System.Runtime.InteropServices;

namespace ConvService.Compute.Tests;

/// <summary>
/// A float buffer placed flush against an inaccessible page (on Linux: mmap with PROT_NONE pages on both sides),
/// so a kernel that reads or writes one float past the chosen end crashes the test run instead of passing by luck.
/// The accessible floats around the buffer hold <see cref="Fill"/>, so an out-of-bounds access on the other side
/// shows as that value (NaN in an output, a changed guard in the band). Elsewhere, the buffer sits between two bands
/// of 64 guard floats in managed memory.
/// </summary>
internal sealed unsafe partial class GuardedBuffer : IDisposable
{
    private const int ProtNone = 0, ProtReadWrite = 3, MapPrivate = 0x02, MapAnonymous = 0x20;
    private const int ManagedBand = 64;

    private readonly nint mapping;
    private readonly nuint mappingBytes;
    private readonly float[]? managed;
    private readonly GCHandle pin;
    private readonly float* accessible;
    private readonly long accessibleFloats;

    /// <param name="length">Floats of the buffer.</param>
    /// <param name="flushAtEnd">True: the buffer's last float is followed by the guard page; false: its first float follows one.</param>
    /// <param name="fill">Value of every accessible float outside the buffer.</param>
    public GuardedBuffer(long length, bool flushAtEnd, float fill)
    {
        Length = length;
        Fill = fill;
        if (OperatingSystem.IsLinux())
        {
            long page = Environment.SystemPageSize;
            // One spare page of guard floats on the side away from the guard page.
            long dataPages = ((length * sizeof(float)) + page - 1) / page + 1;
            mappingBytes = (nuint)((dataPages + 2) * page);
            mapping = Mmap(0, mappingBytes, ProtReadWrite, MapPrivate | MapAnonymous, -1, 0);
            if (mapping == -1)
            {
                throw new InvalidOperationException($"mmap failed: errno {Marshal.GetLastPInvokeError()}");
            }

            Protect(mapping, (nuint)page);
            Protect(mapping + (nint)((dataPages + 1) * page), (nuint)page);
            accessible = (float*)(mapping + (nint)page);
            accessibleFloats = dataPages * page / sizeof(float);
        }
        else
        {
            managed = new float[length + (2 * ManagedBand)];
            pin = GCHandle.Alloc(managed, GCHandleType.Pinned);
            accessible = (float*)pin.AddrOfPinnedObject();
            accessibleFloats = managed.Length;
        }

        new Span<float>(accessible, checked((int)accessibleFloats)).Fill(fill);
        Pointer = managed != null ? accessible + ManagedBand : flushAtEnd ? accessible + accessibleFloats - length : accessible;
    }

    public float* Pointer { get; }

    public long Length { get; }

    public float Fill { get; }

    public Span<float> Span => new(Pointer, checked((int)Length));

    /// <summary>True when every accessible float outside the buffer still holds <see cref="Fill"/>.</summary>
    public bool GuardsIntact(out long firstChanged)
    {
        for (long i = 0; i < accessibleFloats; i++)
        {
            float* p = accessible + i;
            bool inside = p >= Pointer && p < Pointer + Length;
            if (!inside && !Same(*p, Fill))
            {
                firstChanged = p - Pointer;
                return false;
            }
        }

        firstChanged = 0;
        return true;
    }

    public void Dispose()
    {
        if (managed != null)
        {
            pin.Free();
        }
        else
        {
            _ = Munmap(mapping, mappingBytes);
        }
    }

    private static bool Same(float a, float b) => a.Equals(b); // NaN equals NaN here

    private static void Protect(nint address, nuint bytes)
    {
        if (Mprotect(address, bytes, ProtNone) != 0)
        {
            throw new InvalidOperationException($"mprotect failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);
}
