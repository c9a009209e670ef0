using System.Buffers;
using ConvService.Contract.V1;
using Google.Protobuf;

namespace ConvService.Api.Mapping;

/// <summary>
/// Parses ConvolveRequest and SeparableConvolveRequest from the received protobuf bytes like the generated parser
/// does (same merge rules; unknown fields are skipped, not kept), except that each raw_data is copied into a pooled,
/// warm array instead of a new one: a megabyte tensor in a fresh large-object-heap array per call costs zeroing,
/// first-touch page faults and gen2 collections. The small messages (options, 1-D taps) go to the generated parsers.
/// </summary>
public static class PooledRequestReader
{
    private const int WireVarint = 0, WireFixed64 = 1, WireLengthDelimited = 2, WireStartGroup = 3, WireEndGroup = 4, WireFixed32 = 5;

    /// <summary>Protobuf's default recursion limit, for nested unknown groups.</summary>
    private const int MaxGroupDepth = 100;

    public static ConvolveRequest ReadConvolveRequest(ReadOnlySequence<byte> payload)
    {
        var request = new ConvolveRequest { Payloads = new PooledPayloads() };
        try
        {
            var reader = new SequenceReader<byte>(payload);
            while (ReadTag(ref reader, out int field, out int wire))
            {
                switch (field, wire)
                {
                    case (1, WireLengthDelimited):
                        ReadTensor(Nested(ref reader), request.Input ??= new Tensor(), request.Payloads);
                        break;
                    case (2, WireLengthDelimited):
                        ReadTensor(Nested(ref reader), request.Weight ??= new Tensor(), request.Payloads);
                        break;
                    case (3, WireLengthDelimited):
                        ReadTensor(Nested(ref reader), request.Bias ??= new Tensor(), request.Payloads);
                        break;
                    case (4, WireLengthDelimited):
                        MergeSmall(Nested(ref reader), request.Options ??= new ConvOptions());
                        break;
                    default:
                        Skip(ref reader, field, wire, 0);
                        break;
                }
            }
        }
        catch
        {
            request.Payloads.Return();
            throw;
        }

        return request;
    }

    public static SeparableConvolveRequest ReadSeparableConvolveRequest(ReadOnlySequence<byte> payload)
    {
        var request = new SeparableConvolveRequest { Payloads = new PooledPayloads() };
        try
        {
            var reader = new SequenceReader<byte>(payload);
            while (ReadTag(ref reader, out int field, out int wire))
            {
                switch (field, wire)
                {
                    case (1, WireLengthDelimited):
                        ReadTensor(Nested(ref reader), request.Input ??= new Tensor(), request.Payloads);
                        break;
                    case (2, WireLengthDelimited):
                        // oneof kernel: a repeated member merges, the other member is replaced.
                        var depthwise = request.KernelCase == SeparableConvolveRequest.KernelOneofCase.DepthwiseSeparable
                            ? request.DepthwiseSeparable
                            : new DepthwiseSeparable();
                        ReadDepthwiseSeparable(Nested(ref reader), depthwise, request.Payloads);
                        request.DepthwiseSeparable = depthwise;
                        break;
                    case (3, WireLengthDelimited):
                        var spatial = request.KernelCase == SeparableConvolveRequest.KernelOneofCase.SpatiallySeparable
                            ? request.SpatiallySeparable
                            : new SpatiallySeparable();
                        MergeSmall(Nested(ref reader), spatial);
                        request.SpatiallySeparable = spatial;
                        break;
                    case (4, WireLengthDelimited):
                        MergeSmall(Nested(ref reader), request.Options ??= new ConvOptions());
                        break;
                    default:
                        Skip(ref reader, field, wire, 0);
                        break;
                }
            }
        }
        catch
        {
            request.Payloads.Return();
            throw;
        }

        return request;
    }

    private static void ReadDepthwiseSeparable(ReadOnlySequence<byte> bytes, DepthwiseSeparable message, PooledPayloads payloads)
    {
        var reader = new SequenceReader<byte>(bytes);
        while (ReadTag(ref reader, out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, WireLengthDelimited):
                    ReadTensor(Nested(ref reader), message.DepthwiseWeight ??= new Tensor(), payloads);
                    break;
                case (2, WireLengthDelimited):
                    ReadTensor(Nested(ref reader), message.PointwiseWeight ??= new Tensor(), payloads);
                    break;
                case (3, WireLengthDelimited):
                    ReadTensor(Nested(ref reader), message.DepthwiseBias ??= new Tensor(), payloads);
                    break;
                case (4, WireLengthDelimited):
                    ReadTensor(Nested(ref reader), message.PointwiseBias ??= new Tensor(), payloads);
                    break;
                default:
                    Skip(ref reader, field, wire, 0);
                    break;
            }
        }
    }

    /// <summary>Tensor: shape (int64, packed or not), data (float, packed or not), raw_data (bytes, into the pool).</summary>
    private static void ReadTensor(ReadOnlySequence<byte> bytes, Tensor tensor, PooledPayloads payloads)
    {
        var reader = new SequenceReader<byte>(bytes);
        while (ReadTag(ref reader, out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, WireVarint):
                    tensor.Shape.Add((long)ReadVarint(ref reader));
                    break;
                case (1, WireLengthDelimited):
                    var packedShape = new SequenceReader<byte>(Nested(ref reader));
                    while (!packedShape.End)
                    {
                        tensor.Shape.Add((long)ReadVarint(ref packedShape));
                    }

                    break;
                case (2, WireFixed32):
                    tensor.Data.Add(ReadFloat(ref reader));
                    break;
                case (2, WireLengthDelimited):
                    var packedData = Nested(ref reader);
                    if (packedData.Length % sizeof(float) != 0)
                    {
                        throw new InvalidDataException("packed float field length is not a multiple of 4");
                    }

                    var floats = new SequenceReader<byte>(packedData);
                    tensor.Data.Capacity = checked(tensor.Data.Count + (int)(packedData.Length / sizeof(float)));
                    while (!floats.End)
                    {
                        tensor.Data.Add(ReadFloat(ref floats));
                    }

                    break;
                case (3, WireLengthDelimited):
                    payloads.SetRawData(tensor, Nested(ref reader));
                    break;
                default:
                    Skip(ref reader, field, wire, 0);
                    break;
            }
        }
    }

    /// <summary>Small messages: the generated parser, on a copy of their bytes.</summary>
    private static void MergeSmall(ReadOnlySequence<byte> bytes, IMessage message) => message.MergeFrom(bytes.ToArray());

    /// <summary>Reads a length prefix and returns that many following bytes, advancing past them.</summary>
    private static ReadOnlySequence<byte> Nested(ref SequenceReader<byte> reader)
    {
        ulong length = ReadVarint(ref reader);
        if (length > (ulong)reader.Remaining)
        {
            throw new InvalidDataException("a length-delimited field runs past the end of its message");
        }

        var slice = reader.UnreadSequence.Slice(0, (long)length);
        reader.Advance((long)length);
        return slice;
    }

    /// <summary>False at the end of the message; throws on a zero or malformed tag and on a stray end-group tag.</summary>
    private static bool ReadTag(ref SequenceReader<byte> reader, out int field, out int wire)
    {
        if (reader.End)
        {
            field = wire = 0;
            return false;
        }

        ulong tag = ReadVarint(ref reader);
        if (tag > uint.MaxValue || (tag >> 3) == 0)
        {
            throw new InvalidDataException("invalid tag");
        }

        field = (int)(tag >> 3);
        wire = (int)(tag & 7);
        if (wire == WireEndGroup)
        {
            throw new InvalidDataException("end-group tag without a start group");
        }

        return true;
    }

    private static void Skip(ref SequenceReader<byte> reader, int field, int wire, int depth)
    {
        switch (wire)
        {
            case WireVarint:
                ReadVarint(ref reader);
                break;
            case WireFixed64:
                Advance(ref reader, 8);
                break;
            case WireLengthDelimited:
                Nested(ref reader);
                break;
            case WireFixed32:
                Advance(ref reader, 4);
                break;
            case WireStartGroup:
                if (depth >= MaxGroupDepth)
                {
                    throw new InvalidDataException("groups nested too deeply");
                }

                while (true)
                {
                    if (reader.End)
                    {
                        throw new InvalidDataException("a group has no end tag");
                    }

                    ulong tag = ReadVarint(ref reader);
                    int innerField = (int)(tag >> 3), innerWire = (int)(tag & 7);
                    if (tag > uint.MaxValue || innerField == 0)
                    {
                        throw new InvalidDataException("invalid tag");
                    }

                    if (innerWire == WireEndGroup)
                    {
                        if (innerField != field)
                        {
                            throw new InvalidDataException("end-group tag does not match its start");
                        }

                        return;
                    }

                    Skip(ref reader, innerField, innerWire, depth + 1);
                }

            default:
                throw new InvalidDataException($"invalid wire type {wire}");
        }
    }

    private static void Advance(ref SequenceReader<byte> reader, int count)
    {
        if (reader.Remaining < count)
        {
            throw new InvalidDataException("truncated message");
        }

        reader.Advance(count);
    }

    private static float ReadFloat(ref SequenceReader<byte> reader)
    {
        if (!reader.TryReadLittleEndian(out int bits))
        {
            throw new InvalidDataException("truncated message");
        }

        return BitConverter.Int32BitsToSingle(bits);
    }

    private static ulong ReadVarint(ref SequenceReader<byte> reader)
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (!reader.TryRead(out byte b))
            {
                throw new InvalidDataException("truncated message");
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("malformed varint");
    }
}
