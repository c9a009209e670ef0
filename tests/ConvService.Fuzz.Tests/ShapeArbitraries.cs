using ConvService.Compute;
using FsCheck;
using FsCheck.Fluent;

namespace ConvService.Fuzz.Tests;

/// <summary>
/// FsCheck generators: a consistent small convolution most of the time (so valid geometry is
/// exercised too), then with some probability one dimension replaced by a hostile value (zero,
/// negative, int/long limits, products that overflow 64 bits); sometimes shapes of any rank.
/// </summary>
public static class ShapeArbitraries
{
    private static readonly long[] HostileDimensions =
    [
        0, -1, -7, 46_341, 65_536, int.MaxValue, (long)int.MaxValue + 1, 3_037_000_500, 1L << 32, 1L << 40, 1L << 62, long.MaxValue, long.MinValue,
    ];

    private static readonly int[] HostileIntegers = [0, -1, -3, 1 << 16, 1 << 30, int.MaxValue, int.MinValue];

    public static Gen<long> Dimension => Gen.Frequency(
        (8, Gen.Choose(1, 16).Select(i => (long)i)),
        (3, Gen.Elements(HostileDimensions)),
        (1, Gen.Choose(-3, 0).Select(i => (long)i)));

    private static Gen<int> Step => Gen.Frequency((10, Gen.Choose(1, 3)), (1, Gen.Elements(HostileIntegers)));

    private static Gen<int> Pad => Gen.Frequency((10, Gen.Choose(0, 3)), (1, Gen.Elements(HostileIntegers)));

    private static Gen<PaddingMode> Padding => Gen.Frequency(
        (6, Gen.Constant(PaddingMode.Explicit)),
        (3, Gen.Elements(PaddingMode.Same, PaddingMode.Valid)),
        (1, Gen.Choose(-2, 9).Select(i => (PaddingMode)i)));

    public static Gen<Conv2dOptions> Options =>
        from strideH in Step
        from strideW in Step
        from dilationH in Step
        from dilationW in Step
        from pads in Gen.ArrayOf(Pad, 4)
        from padding in Padding
        from groups in Gen.Frequency((10, Gen.Constant(1)), (2, Gen.Choose(2, 4)), (1, Gen.Elements(HostileIntegers)))
        select new Conv2dOptions
        {
            StrideH = strideH,
            StrideW = strideW,
            DilationH = dilationH,
            DilationW = dilationW,
            // Pads only mean something with explicit padding; sometimes keep them anyway (a client error).
            PadTop = padding == PaddingMode.Explicit || pads[0] > 2 ? pads[0] : 0,
            PadLeft = padding == PaddingMode.Explicit ? pads[1] : 0,
            PadBottom = padding == PaddingMode.Explicit ? pads[2] : 0,
            PadRight = padding == PaddingMode.Explicit ? pads[3] : 0,
            Padding = padding,
            Groups = groups,
        };

    /// <summary>A shape of any rank 0-6 made of arbitrary dimensions.</summary>
    public static Gen<long[]> AnyShape => Gen.Choose(0, 6).SelectMany(rank => Gen.ArrayOf(Dimension, rank));

    /// <summary>Replaces one entry of one of the shapes with a hostile dimension, or leaves them alone.</summary>
    private static Gen<long[][]> MaybeBreak(long[][] shapes) =>
        Gen.Frequency(
            (1, Gen.Constant(shapes)),
            (2,
                from which in Gen.Choose(0, shapes.Length - 1)
                from at in Gen.Choose(0, 5)
                from value in Gen.Elements(HostileDimensions).Or(Gen.Choose(-2, 40).Select(i => (long)i))
                select Replace(shapes, which, at, value)),
            (1,
                from which in Gen.Choose(0, shapes.Length - 1)
                from shape in AnyShape
                select Replace(shapes, which, shape)));

    public static Arbitrary<StandardCase> Standard() =>
        (from groups in Gen.Choose(1, 3)
         from batch in Gen.Choose(1, 3)
         from perGroupIn in Gen.Choose(1, 4)
         from perGroupOut in Gen.Choose(1, 4)
         from height in Gen.Choose(1, 24)
         from width in Gen.Choose(1, 24)
         from kernelH in Gen.Choose(1, 7)
         from kernelW in Gen.Choose(1, 7)
         from rank3 in Gen.Elements(true, false)
         from withBias in Gen.Elements(true, false)
         from options in Options
         let input = rank3 ? new long[] { groups * perGroupIn, height, width } : [batch, groups * perGroupIn, height, width]
         let weight = new long[] { groups * perGroupOut, perGroupIn, kernelH, kernelW }
         let bias = withBias ? new long[] { groups * perGroupOut } : []
         from shapes in MaybeBreak([input, weight, bias])
         from keepGroups in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
         select new StandardCase(shapes[0], shapes[1], shapes[2], keepGroups ? options with { Groups = groups } : options)).ToArbitrary();

    public static Arbitrary<DepthwiseCase> Depthwise() =>
        (from batch in Gen.Choose(1, 3)
         from channels in Gen.Choose(1, 6)
         from multiplier in Gen.Choose(1, 3)
         from outChannels in Gen.Choose(1, 8)
         from height in Gen.Choose(1, 24)
         from width in Gen.Choose(1, 24)
         from kernelH in Gen.Choose(1, 7)
         from kernelW in Gen.Choose(1, 7)
         from rank3 in Gen.Elements(true, false)
         from withBias in Gen.Elements(true, false)
         from options in Options
         let input = rank3 ? new long[] { channels, height, width } : [batch, channels, height, width]
         let dw = new long[] { channels * multiplier, 1, kernelH, kernelW }
         let pw = new long[] { outChannels, channels * multiplier, 1, 1 }
         let dwBias = withBias ? new long[] { channels * multiplier } : []
         let pwBias = withBias ? new long[] { outChannels } : []
         from shapes in MaybeBreak([input, dw, pw, dwBias, pwBias])
         select new DepthwiseCase(shapes[0], shapes[1], shapes[2], shapes[3], shapes[4], options)).ToArbitrary();

    public static Arbitrary<SpatialCase> Spatial() =>
        (from batch in Gen.Choose(1, 3)
         from channels in Gen.Choose(1, 6)
         from height in Gen.Choose(1, 24)
         from width in Gen.Choose(1, 24)
         from rank3 in Gen.Elements(true, false)
         from column in Gen.Frequency((8, Gen.Choose(1, 7).Select(i => (long)i)), (2, Dimension))
         from row in Gen.Frequency((8, Gen.Choose(1, 7).Select(i => (long)i)), (2, Dimension))
         from options in Options
         let input = rank3 ? new long[] { channels, height, width } : [batch, channels, height, width]
         from shapes in MaybeBreak([input])
         select new SpatialCase(shapes[0], column, row, options)).ToArbitrary();

    public static Arbitrary<EstimateCase> Estimate() =>
        (from input in Gen.Frequency(
             (3, Gen.ArrayOf(Gen.Choose(1, 64).Select(i => (long)i), 3)),
             (3, Gen.ArrayOf(Gen.Choose(1, 64).Select(i => (long)i), 4)),
             (2, AnyShape))
         from kernel in Gen.Frequency(
             (4, Gen.Choose(1, 2).SelectMany(n => Gen.ArrayOf(Gen.Choose(1, 7), n))),
             (1, Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Gen.Frequency((3, Gen.Choose(-2, 9)), (1, Gen.Elements(HostileIntegers))), n))))
         from outChannels in Gen.Frequency((4, Gen.Choose(1, 512).Select(i => (long)i)), (1, Dimension))
         from multiplier in Gen.Frequency((4, Gen.Choose(0, 4)), (1, Gen.Elements(HostileIntegers)))
         from options in Options
         select new EstimateCase(input, kernel, outChannels, multiplier, options)).ToArbitrary();

    private static long[][] Replace(long[][] shapes, int which, int at, long value)
    {
        var copy = shapes.Select(s => s.ToArray()).ToArray();
        if (copy[which].Length > 0)
        {
            copy[which][at % copy[which].Length] = value;
        }

        return copy;
    }

    private static long[][] Replace(long[][] shapes, int which, long[] shape)
    {
        var copy = shapes.ToArray();
        copy[which] = shape;
        return copy;
    }
}
