using System.Runtime.InteropServices;
using ConvService.Contract.V1;
using Google.Protobuf;

namespace ConvService.Api.Tests;

/// <summary>Builds contract tensors from float arrays in either encoding, and reads them back.</summary>
internal static class Tensors
{
    public static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }

    public static Tensor Make(float[] values, bool raw, params long[] shape)
    {
        var tensor = new Tensor();
        tensor.Shape.AddRange(shape);
        if (raw)
        {
            tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            tensor.Data.AddRange(values);
        }

        return tensor;
    }

    /// <summary>The values of a response tensor, asserting it uses the expected encoding.</summary>
    public static float[] Values(Tensor tensor, bool raw)
    {
        if (raw)
        {
            Assert.Empty(tensor.Data);
            return MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        }

        Assert.True(tensor.RawData.IsEmpty);
        return [.. tensor.Data];
    }
}
