using System.Buffers;
using ConvService.Api.Mapping;
using ConvService.Contract.V1;
using Google.Protobuf;

namespace ConvService.Api.Tests;

/// <summary>
/// The pooled request parser against protobuf's generated parser: same known fields (compared as proto3 JSON, which
/// leaves unknown fields out) for valid, merged, unpacked and corrupted messages, on payloads split into segments
/// as Kestrel delivers them; and its pooled arrays are recycled only through <see cref="PooledPayloads.Return"/>.
/// </summary>
public sealed class PooledRequestReaderTests
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(int.MaxValue)]
    public void ConvolveRequestMatchesTheGeneratedParser(int segmentBytes)
    {
        var request = new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(3 * 6 * 5, 1), true, 1, 3, 6, 5),
            Weight = Tensors.Make(Tensors.Random(4 * 3 * 9, 2), false, 4, 3, 3, 3),
            Bias = Tensors.Make(Tensors.Random(4, 3), true, 4),
            Options = new ConvOptions { Stride = { 2, 1 }, Pads = { 1, 1, 0, 0 }, Groups = 1, PaddingMode = PaddingMode.Unspecified },
        };

        AssertSameAsGenerated(request.ToByteArray(), segmentBytes, ConvolveRequest.Parser, PooledRequestReader.ReadConvolveRequest);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public void SeparableRequestsMatchTheGeneratedParser(int segmentBytes)
    {
        var depthwise = new SeparableConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(2 * 5 * 5, 4), true, 2, 5, 5),
            DepthwiseSeparable = new DepthwiseSeparable
            {
                DepthwiseWeight = Tensors.Make(Tensors.Random(2 * 9, 5), true, 2, 1, 3, 3),
                PointwiseWeight = Tensors.Make(Tensors.Random(6 * 2, 6), false, 6, 2, 1, 1),
                DepthwiseBias = Tensors.Make(Tensors.Random(2, 7), true, 2),
                PointwiseBias = Tensors.Make(Tensors.Random(6, 8), false, 6),
            },
            Options = new ConvOptions { PaddingMode = PaddingMode.Same },
        };
        var spatial = new SeparableConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(25, 9), false, 1, 5, 5),
            SpatiallySeparable = new SpatiallySeparable { Column = { 1, 2, 1 }, Row = { -1, 0, 1 } },
        };

        AssertSameAsGenerated(depthwise.ToByteArray(), segmentBytes, SeparableConvolveRequest.Parser, PooledRequestReader.ReadSeparableConvolveRequest);
        AssertSameAsGenerated(spatial.ToByteArray(), segmentBytes, SeparableConvolveRequest.Parser, PooledRequestReader.ReadSeparableConvolveRequest);
        // Concatenated messages merge: the oneof's other member replaces the first one, the same member merges.
        byte[] both = [.. depthwise.ToByteArray(), .. spatial.ToByteArray(), .. depthwise.ToByteArray()];
        AssertSameAsGenerated(both, segmentBytes, SeparableConvolveRequest.Parser, PooledRequestReader.ReadSeparableConvolveRequest);
    }

    [Fact]
    public void RepeatedFieldsMergeAndUnpackedEncodingsAndUnknownFieldsAreRead()
    {
        var first = new ConvolveRequest { Input = Tensors.Make([1, 2], true, 2), Options = new ConvOptions { Stride = { 2 } } };
        var second = new ConvolveRequest { Input = Tensors.Make([3, 4, 5], true, 3), Options = new ConvOptions { Groups = 2 } };
        var output = new MemoryStream();
        output.Write(first.ToByteArray());
        output.Write(second.ToByteArray());
        var writer = new CodedOutputStream(output, leaveOpen: true);
        // weight (field 2) as a Tensor with unpacked shape (varints), unpacked data (fixed32) and unknown fields of every wire type.
        var tensor = new MemoryStream();
        var inner = new CodedOutputStream(tensor);
        inner.WriteTag(1, WireFormat.WireType.Varint);
        inner.WriteInt64(7);
        inner.WriteTag(1, WireFormat.WireType.Varint);
        inner.WriteInt64(-3);
        inner.WriteTag(2, WireFormat.WireType.Fixed32);
        inner.WriteFloat(1.5f);
        inner.WriteTag(2, WireFormat.WireType.Fixed32);
        inner.WriteFloat(-2.25f);
        inner.WriteTag(9, WireFormat.WireType.Fixed64);
        inner.WriteFixed64(42);
        inner.WriteTag(10, WireFormat.WireType.StartGroup);
        inner.WriteTag(11, WireFormat.WireType.Varint);
        inner.WriteInt32(5);
        inner.WriteTag(10, WireFormat.WireType.EndGroup);
        inner.WriteTag(12, WireFormat.WireType.LengthDelimited);
        inner.WriteBytes(ByteString.CopyFromUtf8("unknown"));
        inner.Flush();
        writer.WriteTag(2, WireFormat.WireType.LengthDelimited);
        writer.WriteBytes(ByteString.CopyFrom(tensor.ToArray()));
        writer.WriteTag(99, WireFormat.WireType.Fixed32);
        writer.WriteFixed32(1);
        writer.Flush();

        var parsed = AssertSameAsGenerated(output.ToArray(), 3, ConvolveRequest.Parser, PooledRequestReader.ReadConvolveRequest);

        Assert.Equal([3L], parsed.Input.Shape.ToArray()[1..]);
        Assert.Equal([7L, -3L], parsed.Weight.Shape);
        Assert.Equal([1.5f, -2.25f], parsed.Weight.Data);
        Assert.Equal(2, parsed.Options.Groups);
    }

    [Fact]
    public void CorruptedMessagesFailOrParseExactlyAsTheGeneratedParserDoes()
    {
        var request = new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(12, 10), true, 1, 3, 2, 2),
            Weight = Tensors.Make(Tensors.Random(6, 11), false, 2, 3, 1, 1),
            Options = new ConvOptions { Dilation = { 1, 1 } },
        };
        byte[] valid = request.ToByteArray();
        var random = new Random(20261125);
        int bothFailed = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] bytes = (byte[])valid.Clone();
            switch (trial % 3)
            {
                case 0:
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                default:
                    random.NextBytes(bytes.AsSpan(random.Next(bytes.Length)));
                    break;
            }

            ConvolveRequest? expected = null;
            try
            {
                expected = ConvolveRequest.Parser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException)
            {
            }

            if (expected is null)
            {
                Assert.ThrowsAny<Exception>(() => PooledRequestReader.ReadConvolveRequest(new ReadOnlySequence<byte>(bytes)));
                bothFailed++;
                continue;
            }

            var actual = PooledRequestReader.ReadConvolveRequest(Segmented(bytes, 5));
            Assert.Equal(Json.Format(expected), Json.Format(actual));
            actual.Payloads!.Return();
        }

        Assert.InRange(bothFailed, 1, 2999);
    }

    [Fact]
    public void RawDataLivesInPooledArraysUntilReturned()
    {
        byte[] bytes = new ConvolveRequest { Input = Tensors.Make(Tensors.Random(4096, 12), true, 1, 1, 64, 64) }.ToByteArray();

        var parsed = PooledRequestReader.ReadConvolveRequest(Segmented(bytes, 4096));
        var expected = ConvolveRequest.Parser.ParseFrom(bytes);
        Assert.Equal(expected.Input.RawData, parsed.Input.RawData);

        parsed.Payloads!.Return();

        // Nothing can read an array that now belongs to another call.
        Assert.True(parsed.Input.RawData.IsEmpty);
        Assert.Equal([1L, 1, 64, 64], parsed.Input.Shape);
    }

    private static T AssertSameAsGenerated<T>(byte[] bytes, int segmentBytes, MessageParser<T> generated, Func<ReadOnlySequence<byte>, T> pooled)
        where T : IMessage<T>
    {
        var expected = generated.ParseFrom(bytes);
        var actual = pooled(Segmented(bytes, segmentBytes));
        Assert.Equal(Json.Format(expected), Json.Format(actual));
        return actual;
    }

    /// <summary>The bytes as a sequence of segments of the given size (Kestrel hands gRPC 4 KB blocks).</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentBytes)
    {
        if (bytes.Length <= segmentBytes)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var first = new Segment(bytes.AsMemory(0, segmentBytes), 0);
        var last = first;
        for (int offset = segmentBytes; offset < bytes.Length; offset += segmentBytes)
        {
            last = last.Append(bytes.AsMemory(offset, Math.Min(segmentBytes, bytes.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
