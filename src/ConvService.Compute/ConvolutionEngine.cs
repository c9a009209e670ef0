using ConvService.Compute.Kernels;
using ConvService.Compute.Memory;
using ConvService.Compute.Planning;

namespace ConvService.Compute;

/// <summary>
/// Entry point of the compute core. Thread-safe; one instance serves all requests. Callers pass
/// validated geometry (from <see cref="ConvShapes"/>) and spans of exactly the sizes it implies;
/// the output span is written once, completely. A plan (Plan* methods) picks the algorithm and
/// packs the weights once and can then run many inputs; the one-shot methods plan and run.
/// </summary>
public sealed class ConvolutionEngine
{
    public ConvolutionEngine(ComputeOptions? options = null)
    {
        Options = options ?? new ComputeOptions();
        Simd = ConvPlanner.Effective(Options.Simd);
    }

    /// <summary>Recent one-shot plans: up to 64 of them, holding at most 64M weight floats (256 MB).</summary>
    // 16 Mi floats (64 MiB) of cached weights per engine: the host keeps one engine per thread budget.
    private readonly PlanCache plans = new(capacity: 64, maxFloats: 16L << 20);

    public ComputeOptions Options { get; }

    /// <summary>The vector width this engine's kernels use: the requested one, or the widest the CPU has below it.</summary>
    public SimdLevel Simd { get; }

    /// <summary>
    /// Frees the warm kernel buffers the process keeps between calls (they are re-created on demand);
    /// for a service that has gone idle. Returns the bytes freed.
    /// </summary>
    public static long ReleasePooledBuffers() => NativeBufferPool.TrimAll();

    /// <summary>Plans a standard convolution: picks the algorithm and packs the weights once.</summary>
    public ConvolutionPlan PlanConvolve(Conv2dGeometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias)
    {
        PlanChecks.Weights(g, weight, bias, nameof(weight), nameof(bias));
        var kernel = ConvPlanner.Standard(g, weight, bias, Simd);
        return new PreparedConvolution(kernel, g.InputElements, g.OutputElements, Options.MaxThreads);
    }

    /// <summary>Plans a depthwise-separable convolution (depthwise stage, then pointwise stage).</summary>
    public ConvolutionPlan PlanDepthwiseSeparable(
        DepthwiseSeparableGeometry g, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> pointwiseWeight,
        ReadOnlySpan<float> depthwiseBias, ReadOnlySpan<float> pointwiseBias)
    {
        PlanChecks.Weights(g.Depthwise, depthwiseWeight, depthwiseBias, nameof(depthwiseWeight), nameof(depthwiseBias));
        PlanChecks.Weights(g.Pointwise, pointwiseWeight, pointwiseBias, nameof(pointwiseWeight), nameof(pointwiseBias));
        var fused = ConvPlanner.FusedDepthwiseSeparable(g, depthwiseWeight, pointwiseWeight, depthwiseBias, pointwiseBias, Simd);
        if (fused != null)
        {
            return new PreparedConvolution(fused, g.Depthwise.InputElements, g.OutputElements, Options.MaxThreads);
        }

        IConvolutionKernel depthwise = ConvPlanner.Standard(g.Depthwise, depthwiseWeight, depthwiseBias, Simd);
        IConvolutionKernel pointwise = ConvPlanner.Standard(g.Pointwise, pointwiseWeight, pointwiseBias, Simd);
        return new PreparedDepthwiseSeparable(g, depthwise, pointwise, Options.MaxThreads);
    }

    /// <summary>Plans a spatially separable convolution (column pass, then row pass).</summary>
    public ConvolutionPlan PlanSpatiallySeparable(SpatiallySeparableGeometry g, ReadOnlySpan<float> column, ReadOnlySpan<float> row)
    {
        var e = g.Equivalent;
        if (column.Length != e.KernelH || row.Length != e.KernelW)
        {
            throw new ArgumentException($"column/row have {column.Length}/{row.Length} taps, geometry needs {e.KernelH}/{e.KernelW}");
        }

        var kernel = ConvPlanner.Separable(e, column, row, Simd);
        return new PreparedConvolution(kernel, e.InputElements, g.OutputElements, Options.MaxThreads);
    }

    /// <summary>Plans (or reuses the cached plan for the same geometry and weight values) and runs.</summary>
    public ExecutionResult Convolve(
        Conv2dGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        CancellationToken cancellationToken = default)
    {
        if (!plans.TryGet(g, weight, bias, default, default, out var plan))
        {
            plan = PlanConvolve(g, weight, bias);
            plans.Add(g, weight, bias, default, default, plan);
        }

        return Run(plan, input, output, cancellationToken);
    }

    /// <summary>Plans (or reuses the cached plan for the same geometry and weight values) and runs.</summary>
    public ExecutionResult DepthwiseSeparable(
        DepthwiseSeparableGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> pointwiseWeight,
        ReadOnlySpan<float> depthwiseBias, ReadOnlySpan<float> pointwiseBias, Span<float> output, CancellationToken cancellationToken = default)
    {
        if (!plans.TryGet(g, depthwiseWeight, pointwiseWeight, depthwiseBias, pointwiseBias, out var plan))
        {
            plan = PlanDepthwiseSeparable(g, depthwiseWeight, pointwiseWeight, depthwiseBias, pointwiseBias);
            plans.Add(g, depthwiseWeight, pointwiseWeight, depthwiseBias, pointwiseBias, plan);
        }

        return Run(plan, input, output, cancellationToken);
    }

    /// <summary>Plans (or reuses the cached plan for the same geometry and taps) and runs.</summary>
    public ExecutionResult SpatiallySeparable(
        SpatiallySeparableGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> column, ReadOnlySpan<float> row, Span<float> output,
        CancellationToken cancellationToken = default)
    {
        if (!plans.TryGet(g, column, row, default, default, out var plan))
        {
            plan = PlanSpatiallySeparable(g, column, row);
            plans.Add(g, column, row, default, default, plan);
        }

        return Run(plan, input, output, cancellationToken);
    }

    private static ExecutionResult Run(ConvolutionPlan plan, ReadOnlySpan<float> input, Span<float> output, CancellationToken cancellationToken)
    {
        plan.Execute(input, output, cancellationToken);
        return new ExecutionResult(plan.Algorithm, plan.Multiplications);
    }
}
