namespace ConvService.Compute.Tests;

/// <summary>Seeded random tensors and the float32-vs-float64 comparison every correctness test uses.</summary>
internal static class TestData
{
    public static float[] Random(Random random, long length)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    /// <summary>Asserts |actual - expected| &lt;= 1e-5 * sum|terms| + 1e-6 for every element.</summary>
    public static void AssertClose(double[] expected, double[] magnitude, float[] actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (long i = 0; i < expected.Length; i++)
        {
            double tolerance = (1e-5 * magnitude[i]) + 1e-6;
            double error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= tolerance))
            {
                Assert.Fail($"{context}: element {i} is {actual[i]}, expected {expected[i]} (error {error:g3} > tolerance {tolerance:g3})");
            }
        }
    }

    public static IEnumerable<SimdLevel> Levels => [SimdLevel.Scalar, SimdLevel.Vector128, SimdLevel.Vector256, SimdLevel.Vector512];

    /// <summary><see cref="Levels"/> as theory data, for [MemberData] of tests run once per level.</summary>
    public static TheoryData<SimdLevel> AllLevels()
    {
        var data = new TheoryData<SimdLevel>();
        foreach (var level in Levels)
        {
            data.Add(level);
        }

        return data;
    }

    /// <summary>The ISA suffix of algorithm names at <paramref name="level"/> on x64.</summary>
    public static string IsaName(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => "avx512",
        SimdLevel.Vector256 => "avx2",
        SimdLevel.Vector128 => "sse",
        _ => "scalar",
    };

    public static ConvolutionEngine Engine(SimdLevel level, int threads = 1) =>
        new(new ComputeOptions { Simd = level, MaxThreads = threads });
}
