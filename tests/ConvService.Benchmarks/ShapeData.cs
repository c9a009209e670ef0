namespace ConvService.Benchmarks;

/// <summary>
/// Seeded tensors for one shape, shared by every library so all compute the same thing.
/// Values uniform in [-1, 1); Gaussian kernels are column x row of a normalised 1-D Gaussian.
/// </summary>
internal sealed class ShapeData
{
    public required float[] Input { get; init; }
    public required float[] Weight { get; init; }
    public required float[] Bias { get; init; }
    public float[] PointwiseWeight { get; init; } = [];
    public float[] PointwiseBias { get; init; } = [];

    /// <summary>The 1-D factors of a Gaussian kernel (empty otherwise); Weight = Column x Row.</summary>
    public float[] Column { get; init; } = [];
    public float[] Row { get; init; } = [];

    public static ShapeData Create(BenchShape shape, int seed = 20261125)
    {
        var random = new Random(seed);
        float[] input = Uniform(random, Product(shape.InputShape));
        float[] bias = shape.HasBias ? Uniform(random, shape.WeightShape[0]) : [];
        float[] column = [], row = [];
        float[] weight;
        int kh = (int)shape.WeightShape[2], kw = (int)shape.WeightShape[3];
        int kernels = (int)(shape.WeightShape[0] * shape.WeightShape[1]);
        if (shape.GaussianKernel)
        {
            column = Gaussian(kh);
            row = Gaussian(kw);
            weight = new float[kernels * kh * kw];
            for (int k = 0; k < kernels; k++)
            {
                for (int i = 0; i < kh; i++)
                {
                    for (int j = 0; j < kw; j++)
                    {
                        weight[(k * kh + i) * kw + j] = column[i] * row[j];
                    }
                }
            }
        }
        else if (shape.SharedChannelKernel)
        {
            float[] one = Uniform(random, (long)shape.WeightShape[1] * kh * kw);
            weight = new float[kernels * kh * kw];
            for (int k = 0; k < (int)shape.WeightShape[0]; k++)
            {
                one.CopyTo(weight, k * one.Length);
            }
        }
        else
        {
            weight = Uniform(random, Product(shape.WeightShape));
        }

        bool separable = shape.Kind == ShapeKind.DepthwiseSeparable;
        return new ShapeData
        {
            Input = input,
            Weight = weight,
            Bias = bias,
            PointwiseWeight = separable ? Uniform(random, Product(shape.PointwiseWeightShape)) : [],
            PointwiseBias = separable && shape.HasBias ? Uniform(random, shape.PointwiseWeightShape[0]) : [],
            Column = column,
            Row = row,
        };
    }

    /// <summary>OpenCV's getGaussianKernel default sigma for a ksize, normalised to sum 1.</summary>
    internal static float[] Gaussian(int k)
    {
        double sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8;
        var g = new double[k];
        double sum = 0;
        for (int i = 0; i < k; i++)
        {
            double x = i - (k - 1) / 2.0;
            g[i] = Math.Exp(-x * x / (2 * sigma * sigma));
            sum += g[i];
        }

        return g.Select(v => (float)(v / sum)).ToArray();
    }

    internal static long Product(long[] shape)
    {
        long p = 1;
        foreach (long d in shape)
        {
            p *= d;
        }

        return p;
    }

    private static float[] Uniform(Random random, long count)
    {
        var a = new float[count];
        for (long i = 0; i < count; i++)
        {
            a[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return a;
    }
}
