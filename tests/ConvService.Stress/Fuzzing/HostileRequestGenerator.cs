using System.Runtime.InteropServices;
using ConvService.Contract.V1;
using Google.Protobuf;

namespace ConvService.Stress.Fuzzing;

/// <summary>
/// Builds contract messages that are mostly almost right: a consistent small request first, then
/// a few random breakages (huge, negative, zero and overflowing dimensions, truncated or oversized
/// raw_data, both encodings at once, missing tensors, wild options). Deterministic for a seed.
/// </summary>
/// <param name="longTaps">Include spatially separable kernels of 65536 x 65537 taps (legal with SAME padding).</param>
/// <param name="hugeDilations">Include dilations above 1024 (up to 2^31-1); legal with SAME padding, and cheap by the cost model.</param>
public sealed class HostileRequestGenerator(Random random, int oversizeBytes, bool longTaps = true, bool hugeDilations = true)
{
    private static readonly long[] SpecialDimensions =
    [
        0, -1, -7, 1, 2, 65536, 100_000, int.MaxValue, (long)int.MaxValue + 1, 3_037_000_500, 1L << 32, 1L << 40,
        long.MaxValue, long.MinValue,
    ];

    private static readonly int[] SpecialIntegers = [0, -1, 1, 2, 3, 7, 64, 1 << 20, int.MaxValue, int.MinValue];

    public ConvolveRequest Convolve()
    {
        int groups = random.Next(1, 3);
        long batch = random.Next(1, 3), inChannels = groups * random.Next(1, 3);
        long height = random.Next(1, 13), width = random.Next(1, 13);
        long outChannels = groups * random.Next(1, 4);
        var request = new ConvolveRequest
        {
            Input = NewTensor(InputShape(batch, inChannels, height, width)),
            Weight = NewTensor([outChannels, inChannels / groups, random.Next(1, (int)Math.Min(height, 5) + 1), random.Next(1, (int)Math.Min(width, 5) + 1)]),
            Options = PlausibleOptions(),
        };
        request.Options.Groups = groups == 1 && Chance(50) ? 0 : groups;
        if (Chance(30))
        {
            request.Bias = NewTensor([outChannels]);
        }

        int breakages = random.Next(4);
        for (int i = 0; i < breakages; i++)
        {
            Break(request.Options, [request.Input, request.Weight, request.Bias], t => { request.Input = t; }, t => { request.Weight = t; });
        }

        return request;
    }

    public SeparableConvolveRequest Separable()
    {
        long batch = random.Next(1, 3), channels = random.Next(1, 5), height = random.Next(1, 13), width = random.Next(1, 13);
        var request = new SeparableConvolveRequest
        {
            Input = NewTensor(InputShape(batch, channels, height, width)),
            Options = PlausibleOptions(),
        };
        int kh = random.Next(1, (int)Math.Min(height, 5) + 1), kw = random.Next(1, (int)Math.Min(width, 5) + 1);
        switch (random.Next(10))
        {
            case < 5:
                long multiplier = random.Next(1, 3), outChannels = random.Next(1, 6);
                request.DepthwiseSeparable = new DepthwiseSeparable
                {
                    DepthwiseWeight = NewTensor([channels * multiplier, 1, kh, kw]),
                    PointwiseWeight = NewTensor([outChannels, channels * multiplier, 1, 1]),
                    DepthwiseBias = Chance(30) ? NewTensor([channels * multiplier]) : null,
                    PointwiseBias = Chance(30) ? NewTensor([outChannels]) : null,
                };
                break;
            case < 9 when longTaps && Chance(3):
                // Long taps with SAME padding on a tiny input: cheap to compute (output x taps), but the
                // equivalent C x Kh x Kw kernel has 65536 x 65537 = 2^32 + 65536 elements, which wraps in 32-bit arithmetic.
                request.Options = new ConvOptions { PaddingMode = PaddingMode.Same };
                request.SpatiallySeparable = new SpatiallySeparable();
                request.SpatiallySeparable.Column.AddRange(Floats(65_536));
                request.SpatiallySeparable.Row.AddRange(Floats(65_537));
                break;
            case < 9:
                request.SpatiallySeparable = new SpatiallySeparable();
                request.SpatiallySeparable.Column.AddRange(Floats(Chance(10) ? random.Next(0, 40) : kh));
                request.SpatiallySeparable.Row.AddRange(Floats(Chance(10) ? random.Next(0, 40) : kw));
                break;
            default:
                break; // neither kernel set
        }

        int breakages = random.Next(4);
        var dws = request.DepthwiseSeparable;
        for (int i = 0; i < breakages; i++)
        {
            Break(
                request.Options,
                [request.Input, dws?.DepthwiseWeight, dws?.PointwiseWeight, dws?.DepthwiseBias, dws?.PointwiseBias],
                t => { request.Input = t; },
                t => { if (dws is not null) { dws.DepthwiseWeight = t; } });
        }

        return request;
    }

    public EstimateCostRequest EstimateCost()
    {
        var request = new EstimateCostRequest { Options = PlausibleOptions() };
        bool plausible = Chance(50);
        int rank = plausible ? random.Next(3, 5) : random.Next(0, 6);
        for (int i = 0; i < rank; i++)
        {
            request.InputShape.Add(plausible ? random.Next(1, 65) : Dimension());
        }

        int kernelRank = plausible ? random.Next(1, 3) : random.Next(0, 4);
        for (int i = 0; i < kernelRank; i++)
        {
            request.KernelSize.Add(plausible ? random.Next(1, 6) : Integer());
        }

        request.OutputChannels = plausible ? random.Next(1, 257) : Dimension();
        request.DepthMultiplier = plausible ? random.Next(0, 3) : Integer();
        if (!plausible)
        {
            BreakOptions(request.Options);
        }

        return request;
    }

    private long[] InputShape(long batch, long channels, long height, long width) =>
        Chance(30) ? [channels, height, width] : [batch, channels, height, width];

    private ConvOptions PlausibleOptions()
    {
        var options = new ConvOptions();
        if (Chance(30))
        {
            options.Stride.Add(random.Next(1, 3));
        }

        if (Chance(20))
        {
            options.Dilation.Add(random.Next(1, 3));
        }

        switch (random.Next(4))
        {
            case 0:
                options.Pads.AddRange([random.Next(0, 3), random.Next(0, 3), random.Next(0, 3), random.Next(0, 3)]);
                break;
            case 1:
                options.PaddingMode = PaddingMode.Same;
                break;
            case 2:
                options.PaddingMode = PaddingMode.Valid;
                break;
            default:
                break;
        }

        return options;
    }

    /// <summary>One random breakage of a request: a dimension, a payload, a tensor or an option.</summary>
    private void Break(ConvOptions options, Tensor?[] tensors, Action<Tensor?> setInput, Action<Tensor?> setWeight)
    {
        var present = tensors.Where(t => t is not null).Cast<Tensor>().ToArray();
        if (present.Length == 0 || Chance(20))
        {
            BreakOptions(options);
            return;
        }

        var tensor = present[random.Next(present.Length)];
        switch (random.Next(11))
        {
            case 0 or 1:
                if (tensor.Shape.Count > 0)
                {
                    tensor.Shape[random.Next(tensor.Shape.Count)] = Dimension();
                }

                break;
            case 2:
                if (Chance(50) && tensor.Shape.Count > 0)
                {
                    tensor.Shape.RemoveAt(random.Next(tensor.Shape.Count));
                }
                else
                {
                    tensor.Shape.Add(Dimension());
                }

                break;
            case 3:
                // Truncated payload: drop 1..all bytes (the count no longer matches the shape; maybe not a multiple of 4).
                var bytes = PayloadBytes(tensor);
                SetRaw(tensor, bytes.AsSpan(0, random.Next(bytes.Length + 1)).ToArray());
                break;
            case 4:
                // Grown payload: 1..9 extra bytes.
                var grown = PayloadBytes(tensor).Concat(RandomBytes(random.Next(1, 10))).ToArray();
                SetRaw(tensor, grown);
                break;
            case 5:
                // Both encodings at once.
                tensor.Data.AddRange(Floats(random.Next(1, 5)));
                tensor.RawData = ByteString.CopyFrom(RandomBytes(4 * random.Next(1, 5)));
                break;
            case 6:
                if (Chance(50))
                {
                    setInput(null);
                }
                else
                {
                    setWeight(null);
                }

                break;
            case 7:
                // A huge shape with almost no data: must be refused before anything that size is allocated.
                tensor.Shape.Clear();
                tensor.Shape.AddRange([1, 1L << random.Next(10, 31), 1L << random.Next(10, 31), 1L << random.Next(1, 20)]);
                break;
            case 8:
                if (Chance(3))
                {
                    SetRaw(tensor, new byte[oversizeBytes]);
                }
                else
                {
                    tensor.Shape.Clear();
                }

                break;
            case 9:
                var values = tensor.Data.Count > 0 ? tensor.Data.ToArray() : Floats(4);
                values[random.Next(values.Length)] = random.Next(3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.MaxValue };
                tensor.RawData = ByteString.Empty;
                tensor.Data.Clear();
                tensor.Data.AddRange(values);
                break;
            default:
                BreakOptions(options);
                break;
        }
    }

    private void BreakOptions(ConvOptions options)
    {
        switch (random.Next(6))
        {
            case 0:
                options.Stride.Clear();
                options.Stride.AddRange(Integers(random.Next(0, 4)));
                break;
            case 1:
                options.Dilation.Clear();
                options.Dilation.AddRange(Integers(random.Next(0, 4)).Select(d => hugeDilations ? d : Math.Min(d, 1024)));
                break;
            case 2:
                options.Pads.Clear();
                options.Pads.AddRange(Integers(random.Next(0, 6)));
                break;
            case 3:
                options.PaddingMode = (PaddingMode)random.Next(-2, 8);
                break;
            case 4:
                options.Groups = Integer();
                break;
            default:
                options.Pads.Clear();
                options.Pads.AddRange(Integers(4));
                options.PaddingMode = (PaddingMode)random.Next(0, 3);
                break;
        }
    }

    private Tensor NewTensor(long[] shape)
    {
        var tensor = new Tensor();
        tensor.Shape.AddRange(shape);
        long count = 1;
        foreach (long d in shape)
        {
            count *= d;
        }

        var values = Floats((int)count);
        if (Chance(50))
        {
            tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            tensor.Data.AddRange(values);
        }

        return tensor;
    }

    private static byte[] PayloadBytes(Tensor tensor) =>
        tensor.RawData.Length > 0 ? tensor.RawData.ToByteArray() : MemoryMarshal.AsBytes(tensor.Data.ToArray().AsSpan()).ToArray();

    private static void SetRaw(Tensor tensor, byte[] bytes)
    {
        tensor.Data.Clear();
        tensor.RawData = ByteString.CopyFrom(bytes);
    }

    private long Dimension() => Chance(60) ? random.Next(-2, 9) : SpecialDimensions[random.Next(SpecialDimensions.Length)];

    private int Integer() => Chance(50) ? random.Next(-2, 5) : SpecialIntegers[random.Next(SpecialIntegers.Length)];

    private int[] Integers(int count)
    {
        var values = new int[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = Integer();
        }

        return values;
    }

    private float[] Floats(int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private bool Chance(int percent) => random.Next(100) < percent;
}
