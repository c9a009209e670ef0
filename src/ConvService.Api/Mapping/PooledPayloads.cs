using System.Buffers;
using ConvService.Contract.V1;
using Google.Protobuf;

namespace ConvService.Api.Mapping;

/// <summary>
/// The pooled arrays behind the raw_data of one parsed request (see <see cref="PooledRequestReader"/>). Return them once
/// the computation no longer reads the request; the tensors' raw_data is cleared first so nothing can read a recycled array.
/// </summary>
public sealed class PooledPayloads
{
    private readonly List<(Tensor Tensor, byte[] Array)> _rented = [];

    /// <summary>Copies <paramref name="bytes"/> into a pooled array and makes it the tensor's raw_data (a later raw_data of the same tensor replaces it, as in protobuf).</summary>
    public void SetRawData(Tensor tensor, in ReadOnlySequence<byte> bytes)
    {
        int length = checked((int)bytes.Length);
        if (length == 0)
        {
            tensor.RawData = ByteString.Empty;
            return;
        }

        var array = TensorBufferPool.Bytes.Rent(length);
        bytes.CopyTo(array);
        tensor.RawData = UnsafeByteOperations.UnsafeWrap(array.AsMemory(0, length));
        _rented.Add((tensor, array));
    }

    public void Return()
    {
        foreach (var (tensor, array) in _rented)
        {
            tensor.RawData = ByteString.Empty;
            TensorBufferPool.Bytes.Return(array);
        }

        _rented.Clear();
    }
}
