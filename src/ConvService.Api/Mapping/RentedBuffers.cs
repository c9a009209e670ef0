using System.Buffers;

namespace ConvService.Api.Mapping;

/// <summary>Pooled float buffers for one computation, all returned on Dispose.</summary>
public sealed class RentedBuffers : IDisposable
{
    private readonly List<float[]> _rented = [];

    public float[] RentFloats(int length)
    {
        var buffer = TensorBufferPool.Floats.Rent(length);
        _rented.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        foreach (var buffer in _rented)
        {
            TensorBufferPool.Floats.Return(buffer);
        }

        _rented.Clear();
    }
}
