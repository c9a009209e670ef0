namespace ConvService.Compute;

/// <summary>
/// Entry point of the compute core. Thread-safe; one instance serves all requests. Callers pass
/// validated geometry (from <see cref="ConvShapes"/>) and spans of exactly the sizes it implies;
/// the output span is written once, completely.
/// </summary>
public sealed class ConvolutionEngine
{
    public ConvolutionEngine(ComputeOptions? options = null)
    {
        Options = options ?? new ComputeOptions();
    }

    public ComputeOptions Options { get; }

    /// <summary>Plans a standard convolution: picks the algorithm and packs the weights once.</summary>
    public ConvolutionPlan PlanConvolve(Conv2dGeometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) =>
        new ScalarPlan(g, weight.ToArray(), bias.ToArray());

    /// <summary>Plans a depthwise-separable convolution (depthwise stage, then pointwise stage).</summary>
    public ConvolutionPlan PlanDepthwiseSeparable(
        DepthwiseSeparableGeometry g, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> pointwiseWeight,
        ReadOnlySpan<float> depthwiseBias, ReadOnlySpan<float> pointwiseBias) =>
        new ScalarSeparablePlan(g, depthwiseWeight.ToArray(), pointwiseWeight.ToArray(), depthwiseBias.ToArray(), pointwiseBias.ToArray());

    /// <summary>Plans a spatially separable convolution (column pass, then row pass).</summary>
    public ConvolutionPlan PlanSpatiallySeparable(SpatiallySeparableGeometry g, ReadOnlySpan<float> column, ReadOnlySpan<float> row) =>
        new ScalarSpatialPlan(this, g, column.ToArray(), row.ToArray());

    private sealed class ScalarPlan(Conv2dGeometry g, float[] weight, float[] bias) : ConvolutionPlan
    {
        public override string Algorithm => "direct-scalar";
        public override long Multiplications => g.Multiplications;
        public override long InputElements => g.InputElements;
        public override long OutputElements => g.OutputElements;

        public override void Execute(ReadOnlySpan<float> input, Span<float> output, CancellationToken cancellationToken = default)
        {
            CheckLengths(g, input, weight, bias, output);
            DirectConvolution(g, input, weight, bias, output, cancellationToken);
        }
    }

    private sealed class ScalarSeparablePlan(DepthwiseSeparableGeometry g, float[] dw, float[] pw, float[] dwBias, float[] pwBias) : ConvolutionPlan
    {
        public override string Algorithm => "depthwise-then-pointwise-scalar";
        public override long Multiplications => g.Multiplications;
        public override long InputElements => g.Depthwise.InputElements;
        public override long OutputElements => g.OutputElements;

        public override void Execute(ReadOnlySpan<float> input, Span<float> output, CancellationToken cancellationToken = default)
        {
            var mid = new float[g.Depthwise.OutputElements];
            DirectConvolution(g.Depthwise, input, dw, dwBias, mid, cancellationToken);
            DirectConvolution(g.Pointwise, mid, pw, pwBias, output, cancellationToken);
        }
    }

    private sealed class ScalarSpatialPlan(ConvolutionEngine engine, SpatiallySeparableGeometry g, float[] column, float[] row) : ConvolutionPlan
    {
        public override string Algorithm => "outer-product-direct-scalar";
        public override long Multiplications => g.Multiplications;
        public override long InputElements => g.Equivalent.InputElements;
        public override long OutputElements => g.OutputElements;

        public override void Execute(ReadOnlySpan<float> input, Span<float> output, CancellationToken cancellationToken = default) =>
            engine.SpatiallySeparable(g, input, column, row, output, cancellationToken);
    }

    public ExecutionResult Convolve(
        Conv2dGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        CancellationToken cancellationToken = default)
    {
        CheckLengths(g, input, weight, bias, output);
        DirectConvolution(g, input, weight, bias, output, cancellationToken);
        return new ExecutionResult("direct-scalar", g.Multiplications);
    }

    public ExecutionResult DepthwiseSeparable(
        DepthwiseSeparableGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> pointwiseWeight,
        ReadOnlySpan<float> depthwiseBias, ReadOnlySpan<float> pointwiseBias, Span<float> output, CancellationToken cancellationToken = default)
    {
        CheckLengths(g.Depthwise, input, depthwiseWeight, depthwiseBias, default, checkOutput: false);
        CheckLengths(g.Pointwise, default, pointwiseWeight, pointwiseBias, output, checkInput: false);
        var mid = new float[g.Depthwise.OutputElements];
        DirectConvolution(g.Depthwise, input, depthwiseWeight, depthwiseBias, mid, cancellationToken);
        DirectConvolution(g.Pointwise, mid, pointwiseWeight, pointwiseBias, output, cancellationToken);
        return new ExecutionResult("depthwise-then-pointwise-scalar", g.Multiplications);
    }

    public ExecutionResult SpatiallySeparable(
        SpatiallySeparableGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> column, ReadOnlySpan<float> row, Span<float> output,
        CancellationToken cancellationToken = default)
    {
        var e = g.Equivalent;
        if (column.Length != e.KernelH || row.Length != e.KernelW)
        {
            throw new ArgumentException("column/row lengths do not match the geometry");
        }

        var kernel = new float[e.OutChannels * e.KernelH * e.KernelW];
        for (int c = 0; c < e.OutChannels; c++)
        {
            for (int i = 0; i < e.KernelH; i++)
            {
                for (int j = 0; j < e.KernelW; j++)
                {
                    kernel[(c * e.KernelH + i) * e.KernelW + j] = column[i] * row[j];
                }
            }
        }

        CheckLengths(e, input, kernel, default, output);
        DirectConvolution(e, input, kernel, default, output, cancellationToken);
        return new ExecutionResult("outer-product-direct-scalar", g.Multiplications);
    }

    private static void DirectConvolution(
        Conv2dGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, CancellationToken ct)
    {
        int cinPerGroup = g.InChannelsPerGroup, coutPerGroup = g.OutChannelsPerGroup;
        for (int n = 0; n < g.Batch; n++)
        {
            ct.ThrowIfCancellationRequested();
            for (int co = 0; co < g.OutChannels; co++)
            {
                int group = co / coutPerGroup;
                for (int oy = 0; oy < g.OutHeight; oy++)
                {
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        float sum = bias.IsEmpty ? 0f : bias[co];
                        for (int ci = 0; ci < cinPerGroup; ci++)
                        {
                            int inChannel = group * cinPerGroup + ci;
                            for (int ky = 0; ky < g.KernelH; ky++)
                            {
                                int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                                if ((uint)iy >= (uint)g.InHeight)
                                {
                                    continue;
                                }

                                for (int kx = 0; kx < g.KernelW; kx++)
                                {
                                    int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                                    if ((uint)ix >= (uint)g.InWidth)
                                    {
                                        continue;
                                    }

                                    sum += input[((n * g.InChannels + inChannel) * g.InHeight + iy) * g.InWidth + ix]
                                        * weight[((co * cinPerGroup + ci) * g.KernelH + ky) * g.KernelW + kx];
                                }
                            }
                        }

                        output[((n * g.OutChannels + co) * g.OutHeight + oy) * g.OutWidth + ox] = sum;
                    }
                }
            }
        }
    }

    private static void CheckLengths(
        Conv2dGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> output,
        bool checkInput = true, bool checkOutput = true)
    {
        if (checkInput && input.Length != g.InputElements)
        {
            throw new ArgumentException($"input has {input.Length} elements, geometry needs {g.InputElements}", nameof(input));
        }

        if (weight.Length != g.WeightElements)
        {
            throw new ArgumentException($"weight has {weight.Length} elements, geometry needs {g.WeightElements}", nameof(weight));
        }

        if (!bias.IsEmpty && bias.Length != g.OutChannels)
        {
            throw new ArgumentException($"bias has {bias.Length} elements, geometry needs {g.OutChannels}", nameof(bias));
        }

        if (checkOutput && output.Length != g.OutputElements)
        {
            throw new ArgumentException($"output has {output.Length} elements, geometry needs {g.OutputElements}", nameof(output));
        }
    }
}
