using System.Runtime.InteropServices;
using System.Text;

namespace ConvService.Benchmarks.Peers;

/// <summary>
/// The few protobuf wire-format primitives an ONNX model needs: varints, length-delimited
/// strings, bytes and nested messages. Enough to write a ModelProto without generated code.
/// </summary>
internal sealed class ProtoWriter
{
    private const int WireVarint = 0;
    private const int WireLengthDelimited = 2;
    private readonly MemoryStream _buffer = new();

    public byte[] ToArray() => _buffer.ToArray();

    public void Int64(int field, long value)
    {
        Tag(field, WireVarint);
        Varint((ulong)value);
    }

    /// <summary>Repeated int64, one tag per element (the unpacked form every parser accepts).</summary>
    public void Int64s(int field, ReadOnlySpan<long> values)
    {
        foreach (long v in values)
        {
            Int64(field, v);
        }
    }

    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, WireLengthDelimited);
        Varint((ulong)value.Length);
        _buffer.Write(value);
    }

    /// <summary>Float32 values as little-endian bytes (TensorProto.raw_data's layout).</summary>
    public void FloatsAsBytes(int field, ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("raw_data is little-endian; this writer assumes a little-endian CPU");
        }

        Bytes(field, MemoryMarshal.AsBytes(values));
    }

    public void Message(int field, Action<ProtoWriter> writeBody)
    {
        var nested = new ProtoWriter();
        writeBody(nested);
        Bytes(field, nested._buffer.GetBuffer().AsSpan(0, (int)nested._buffer.Length));
    }

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        _buffer.WriteByte((byte)value);
    }
}
