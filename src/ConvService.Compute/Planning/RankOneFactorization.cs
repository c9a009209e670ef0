namespace ConvService.Compute.Planning;

/// <summary>
/// Tests whether a Kh x Kw kernel is, up to float32 rounding, an outer product column ⊗ row, and
/// finds the factors: a pivot on the largest entry gives a start, a few alternating least-squares
/// steps in float64 polish it to the best rank-1 approximation, and the float32 factors are
/// accepted only if every entry of the kernel is reproduced within a few units of float32
/// rounding of the largest entry. That bound is far below the rounding of the direct convolution
/// itself, so the separable result stays within the direct path's tolerance.
/// </summary>
internal static class RankOneFactorization
{
    /// <summary>Allowed |kernel - column ⊗ row| per entry, relative to the largest |entry| (8 float32 ulps at 1.0).</summary>
    public const double RelativeTolerance = 8.0 / (1 << 24);

    public static bool TryFactor(ReadOnlySpan<float> kernel, int kernelH, int kernelW, Span<float> column, Span<float> row)
    {
        int pivotY = 0, pivotX = 0;
        double max = 0;
        for (int i = 0; i < kernelH; i++)
        {
            for (int j = 0; j < kernelW; j++)
            {
                double value = Math.Abs((double)kernel[(i * kernelW) + j]);
                if (!double.IsFinite(value))
                {
                    return false;
                }

                if (value > max)
                {
                    max = value;
                    pivotY = i;
                    pivotX = j;
                }
            }
        }

        Span<double> u = kernelH <= 256 ? stackalloc double[kernelH] : new double[kernelH];
        Span<double> v = kernelW <= 256 ? stackalloc double[kernelW] : new double[kernelW];
        if (max == 0)
        {
            column.Clear();
            row.Clear();
            return true;
        }

        double pivot = kernel[(pivotY * kernelW) + pivotX];
        for (int i = 0; i < kernelH; i++)
        {
            u[i] = kernel[(i * kernelW) + pivotX];
        }

        for (int j = 0; j < kernelW; j++)
        {
            v[j] = kernel[(pivotY * kernelW) + j] / pivot;
        }

        for (int iteration = 0; iteration < 3; iteration++)
        {
            double vv = Dot(v, v);
            for (int i = 0; i < kernelH; i++)
            {
                double sum = 0;
                for (int j = 0; j < kernelW; j++)
                {
                    sum += kernel[(i * kernelW) + j] * v[j];
                }

                u[i] = sum / vv;
            }

            double uu = Dot(u, u);
            for (int j = 0; j < kernelW; j++)
            {
                double sum = 0;
                for (int i = 0; i < kernelH; i++)
                {
                    sum += kernel[(i * kernelW) + j] * u[i];
                }

                v[j] = sum / uu;
            }
        }

        // Balance the factors' magnitudes so neither underflows nor overflows in float32.
        double scale = Math.Sqrt(Math.Sqrt(Dot(v, v) / Dot(u, u)));
        if (!double.IsFinite(scale) || scale == 0)
        {
            return false;
        }

        for (int i = 0; i < kernelH; i++)
        {
            column[i] = (float)(u[i] * scale);
        }

        for (int j = 0; j < kernelW; j++)
        {
            row[j] = (float)(v[j] / scale);
        }

        double tolerance = RelativeTolerance * max;
        for (int i = 0; i < kernelH; i++)
        {
            for (int j = 0; j < kernelW; j++)
            {
                double residual = Math.Abs(kernel[(i * kernelW) + j] - ((double)column[i] * row[j]));
                if (!(residual <= tolerance))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
