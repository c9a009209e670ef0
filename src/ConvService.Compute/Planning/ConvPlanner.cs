using System.Runtime.Intrinsics;
using ConvService.Compute.Kernels;
using ConvService.Compute.Simd;

namespace ConvService.Compute.Planning;

/// <summary>
/// Picks the algorithm for a geometry and a vector width and builds its kernel (weights packed once):
/// depthwise geometries run per channel (as a column + row pass when every kernel is rank 1),
/// everything else as implicit GEMM; the vector width is fixed here for the plan's life.
/// </summary>
internal static class ConvPlanner
{
    /// <summary>The widest width not above <paramref name="requested"/> that the CPU accelerates.</summary>
    public static SimdLevel Effective(SimdLevel requested)
    {
        var detected = ComputeOptions.DetectSimd();
        return (int)requested <= (int)detected ? requested : detected;
    }

    public static IConvolutionKernel Standard(Conv2dGeometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, SimdLevel simd) =>
        Effective(simd) switch
        {
            SimdLevel.Vector512 => Standard<Vector512Ops, Vector512<float>>(g, weight, bias),
            SimdLevel.Vector256 => Standard<Vector256Ops, Vector256<float>>(g, weight, bias),
            SimdLevel.Vector128 => Standard<Vector128Ops, Vector128<float>>(g, weight, bias),
            _ => Standard<ScalarOps, float>(g, weight, bias),
        };

    public static IConvolutionKernel Separable(Conv2dGeometry g, ReadOnlySpan<float> column, ReadOnlySpan<float> row, SimdLevel simd) =>
        DirectTapRangeConvolution.Suits(g) ? DirectTapRangeConvolution.ForSeparable(g, column, row) : Effective(simd) switch
        {
            SimdLevel.Vector512 => new SeparableFilter<Vector512Ops, Vector512<float>>(g, column, row, default, 1, "separable-rows-"),
            SimdLevel.Vector256 => new SeparableFilter<Vector256Ops, Vector256<float>>(g, column, row, default, 1, "separable-rows-"),
            SimdLevel.Vector128 => new SeparableFilter<Vector128Ops, Vector128<float>>(g, column, row, default, 1, "separable-rows-"),
            _ => new SeparableFilter<ScalarOps, float>(g, column, row, default, 1, "separable-rows-"),
        };

    /// <summary>The fused depthwise + pointwise kernel when it pays for this geometry, else null (run the stages apart).</summary>
    public static IConvolutionKernel? FusedDepthwiseSeparable(
        DepthwiseSeparableGeometry g, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> pointwiseWeight,
        ReadOnlySpan<float> depthwiseBias, ReadOnlySpan<float> pointwiseBias, SimdLevel simd) =>
        Effective(simd) switch
        {
            SimdLevel.Vector512 => Fused<Vector512Ops, Vector512<float>>(g, depthwiseWeight, pointwiseWeight, depthwiseBias, pointwiseBias),
            SimdLevel.Vector256 => Fused<Vector256Ops, Vector256<float>>(g, depthwiseWeight, pointwiseWeight, depthwiseBias, pointwiseBias),
            SimdLevel.Vector128 => Fused<Vector128Ops, Vector128<float>>(g, depthwiseWeight, pointwiseWeight, depthwiseBias, pointwiseBias),
            _ => Fused<ScalarOps, float>(g, depthwiseWeight, pointwiseWeight, depthwiseBias, pointwiseBias),
        };

    private static IConvolutionKernel? Fused<TOps, TVec>(
        DepthwiseSeparableGeometry g, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> pointwiseWeight,
        ReadOnlySpan<float> depthwiseBias, ReadOnlySpan<float> pointwiseBias)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged =>
        FusedDepthwisePointwise<TOps, TVec>.TryCreate(g, Standard<TOps, TVec>(g.Depthwise, depthwiseWeight, depthwiseBias), pointwiseWeight, pointwiseBias);

    private static IConvolutionKernel Standard<TOps, TVec>(Conv2dGeometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias)
        where TOps : struct, IVectorOps<TVec>
        where TVec : unmanaged
    {
        if (DirectTapRangeConvolution.Suits(g))
        {
            return DirectTapRangeConvolution.ForWeights(g, weight, bias);
        }

        if (!g.IsDepthwise)
        {
            return new GemmConvolution<TOps, TVec>(g, weight, bias);
        }

        if (SeparationPays(g))
        {
            var columns = new float[(long)g.OutChannels * g.KernelH];
            var rows = new float[(long)g.OutChannels * g.KernelW];
            int taps = g.KernelH * g.KernelW;
            bool rankOne = true;
            for (int o = 0; o < g.OutChannels && rankOne; o++)
            {
                rankOne = RankOneFactorization.TryFactor(
                    weight.Slice(o * taps, taps), g.KernelH, g.KernelW, columns.AsSpan(o * g.KernelH, g.KernelH), rows.AsSpan(o * g.KernelW, g.KernelW));
            }

            if (rankOne)
            {
                return new SeparableFilter<TOps, TVec>(g, columns, rows, bias, g.OutChannels, "auto-separable-rank1-");
            }
        }

        return new DepthwiseConvolution<TOps, TVec>(g, weight, bias);
    }

    /// <summary>Kh + Kw taps (plus the laid-out row's extra store and load) must beat Kh * Kw.</summary>
    private static bool SeparationPays(Conv2dGeometry g) =>
        g.KernelH >= 2 && g.KernelW >= 2 && (long)g.KernelH * g.KernelW >= g.KernelH + g.KernelW + 3;
}
