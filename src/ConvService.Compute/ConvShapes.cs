namespace ConvService.Compute;

/// <summary>
/// Turns the caller's shapes and options into validated geometry. Every rule is checked here,
/// in 64-bit arithmetic with overflow checks, before anything is allocated. Field names are the
/// contract's paths so a client can tell exactly what to fix.
/// </summary>
public static class ConvShapes
{
    /// <summary>Largest element count of one tensor: spans are int-indexed.</summary>
    public const long MaxTensorElements = int.MaxValue;

    /// <summary>Largest padded input extent and dilated kernel extent along one axis (2^30).</summary>
    public const long MaxSpatialExtent = 1L << 30;

    /// <summary>Standard convolution: input [N,C,H,W] or [C,H,W], weight [Cout, C/groups, Kh, Kw], optional bias [Cout].</summary>
    public static Conv2dGeometry Standard(
        ReadOnlySpan<long> inputShape,
        ReadOnlySpan<long> weightShape,
        ReadOnlySpan<long> biasShape,
        Conv2dOptions options)
    {
        var errors = new List<FieldViolation>();
        var input = CheckInput(inputShape, "input.shape", errors);
        CheckOptions(options, "options", errors, checkGroups: true);
        var weight = CheckRank4(weightShape, "weight.shape", "[out_channels, in_channels / groups, kernel_h, kernel_w]", errors);
        ThrowIfAny(errors);

        int groups = options.Groups;
        if (input.C % groups != 0)
        {
            errors.Add(new("options.groups", $"input channels ({input.C}) must be divisible by groups ({groups})"));
        }

        if (weight[0] % groups != 0)
        {
            errors.Add(new("options.groups", $"output channels ({weight[0]}) must be divisible by groups ({groups})"));
        }

        if (input.C % groups == 0 && weight[1] != input.C / groups)
        {
            errors.Add(new("weight.shape", $"dimension 1 must equal input channels / groups = {input.C / groups}, got {weight[1]}"));
        }

        CheckVector(biasShape, weight[0], "bias.shape", "output channels", errors);
        ThrowIfAny(errors);
        var geometry = Resolve(input, weight[0], groups, weight[2], weight[3], options, "weight.shape", errors);
        ThrowIfAny(errors);
        CheckElements(geometry!.WeightElements, "weight.shape", errors);
        ThrowIfAny(errors);
        return geometry;
    }

    /// <summary>
    /// Depthwise-separable convolution: depthwise [C*M, 1, Kh, Kw] with optional bias [C*M], then
    /// pointwise [Cout, C*M, 1, 1] with optional bias [Cout]. Options apply to the depthwise stage.
    /// </summary>
    public static DepthwiseSeparableGeometry DepthwiseSeparable(
        ReadOnlySpan<long> inputShape,
        ReadOnlySpan<long> depthwiseWeightShape,
        ReadOnlySpan<long> pointwiseWeightShape,
        ReadOnlySpan<long> depthwiseBiasShape,
        ReadOnlySpan<long> pointwiseBiasShape,
        Conv2dOptions options)
    {
        const string dwField = "depthwise_separable.depthwise_weight.shape";
        const string pwField = "depthwise_separable.pointwise_weight.shape";
        var errors = new List<FieldViolation>();
        var input = CheckInput(inputShape, "input.shape", errors);
        CheckOptions(options with { Groups = 1 }, "options", errors, checkGroups: false);
        var dw = CheckRank4(depthwiseWeightShape, dwField, "[channels * depth_multiplier, 1, kernel_h, kernel_w]", errors);
        var pw = CheckRank4(pointwiseWeightShape, pwField, "[out_channels, channels * depth_multiplier, 1, 1]", errors);
        ThrowIfAny(errors);

        if (dw[0] % input.C != 0)
        {
            errors.Add(new(dwField, $"dimension 0 must be a multiple of the input channels ({input.C}) (channels * depth_multiplier), got {dw[0]}"));
        }

        if (dw[1] != 1)
        {
            errors.Add(new(dwField, $"dimension 1 must be 1 (one input channel per depthwise filter), got {dw[1]}"));
        }

        if (pw[1] != dw[0])
        {
            errors.Add(new(pwField, $"dimension 1 must equal the depthwise output channels ({dw[0]}), got {pw[1]}"));
        }

        if (pw[2] != 1 || pw[3] != 1)
        {
            errors.Add(new(pwField, $"kernel must be 1x1, got {pw[2]}x{pw[3]}"));
        }

        CheckVector(depthwiseBiasShape, dw[0], "depthwise_separable.depthwise_bias.shape", "depthwise output channels", errors);
        CheckVector(pointwiseBiasShape, pw[0], "depthwise_separable.pointwise_bias.shape", "pointwise output channels", errors);
        ThrowIfAny(errors);

        var depthwise = Resolve(input, dw[0], input.C, dw[2], dw[3], options with { Groups = (int)input.C }, dwField, errors);
        ThrowIfAny(errors);
        var mid = new InputDims(depthwise!.Batch, depthwise.OutChannels, depthwise.OutHeight, depthwise.OutWidth, input.Rank3);
        var pointwise = Resolve(mid, pw[0], 1, 1, 1, Conv2dOptions.Default, pwField, errors);
        ThrowIfAny(errors);
        CheckElements(depthwise.OutputElements, dwField, errors, "intermediate (depthwise output)");
        CheckElements(depthwise.WeightElements, dwField, errors);
        CheckElements(pointwise!.WeightElements, pwField, errors);
        ThrowIfAny(errors);
        return new DepthwiseSeparableGeometry(depthwise, pointwise, (int)(dw[0] / input.C));
    }

    /// <summary>Spatially separable convolution: a column kernel of Kh taps, then a row kernel of Kw taps, per channel.</summary>
    public static SpatiallySeparableGeometry SpatiallySeparable(
        ReadOnlySpan<long> inputShape,
        long columnLength,
        long rowLength,
        Conv2dOptions options)
    {
        var errors = new List<FieldViolation>();
        var input = CheckInput(inputShape, "input.shape", errors);
        CheckOptions(options with { Groups = 1 }, "options", errors, checkGroups: false);
        if (columnLength <= 0)
        {
            errors.Add(new("spatially_separable.column", "must have at least one tap"));
        }

        if (rowLength <= 0)
        {
            errors.Add(new("spatially_separable.row", "must have at least one tap"));
        }

        ThrowIfAny(errors);
        var geometry = Resolve(input, input.C, input.C, columnLength, rowLength, options with { Groups = (int)input.C }, "spatially_separable", errors);
        ThrowIfAny(errors);
        return new SpatiallySeparableGeometry(geometry!);
    }

    internal readonly record struct InputDims(long N, long C, long H, long W, bool Rank3);

    internal static InputDims CheckInput(ReadOnlySpan<long> shape, string field, List<FieldViolation> errors)
    {
        if (shape.Length is not (3 or 4))
        {
            errors.Add(new(field, $"must have rank 4 [N, C, H, W] or rank 3 [C, H, W], got rank {shape.Length}"));
            return default;
        }

        if (!AllPositive(shape, field, errors))
        {
            return default;
        }

        CheckElements(shape, field, errors);
        return shape.Length == 4
            ? new InputDims(shape[0], shape[1], shape[2], shape[3], false)
            : new InputDims(1, shape[0], shape[1], shape[2], true);
    }

    internal static void CheckOptions(Conv2dOptions o, string prefix, List<FieldViolation> errors, bool checkGroups)
    {
        if (o.StrideH <= 0 || o.StrideW <= 0)
        {
            errors.Add(new($"{prefix}.stride", $"must be positive, got [{o.StrideH}, {o.StrideW}]"));
        }

        if (o.DilationH <= 0 || o.DilationW <= 0)
        {
            errors.Add(new($"{prefix}.dilation", $"must be positive, got [{o.DilationH}, {o.DilationW}]"));
        }

        if (o.PadTop < 0 || o.PadLeft < 0 || o.PadBottom < 0 || o.PadRight < 0)
        {
            errors.Add(new($"{prefix}.pads", $"must be non-negative, got [{o.PadTop}, {o.PadLeft}, {o.PadBottom}, {o.PadRight}]"));
        }

        if (o.Padding != PaddingMode.Explicit && (o.PadTop | o.PadLeft | o.PadBottom | o.PadRight) != 0)
        {
            errors.Add(new($"{prefix}.pads", $"must be empty when padding_mode is {(o.Padding == PaddingMode.Same ? "SAME" : "VALID")}"));
        }

        if (!Enum.IsDefined(o.Padding))
        {
            errors.Add(new($"{prefix}.padding_mode", $"unknown value {(int)o.Padding}"));
        }

        if (checkGroups && o.Groups <= 0)
        {
            errors.Add(new($"{prefix}.groups", $"must be positive, got {o.Groups}"));
        }
    }

    /// <summary>Resolves padding and output size; adds violations instead of throwing.</summary>
    internal static Conv2dGeometry? Resolve(
        InputDims input, long outChannels, long groups, long kernelH, long kernelW, Conv2dOptions o, string kernelField, List<FieldViolation> errors)
    {
        if (kernelH > int.MaxValue || kernelW > int.MaxValue || outChannels > int.MaxValue)
        {
            errors.Add(new(kernelField, "dimensions must not exceed 2147483647"));
            return null;
        }

        // Effective (dilated) kernel extent: dilation * (k - 1) + 1, in 64 bits.
        long effH = checked((long)o.DilationH * (kernelH - 1) + 1);
        long effW = checked((long)o.DilationW * (kernelW - 1) + 1);
        long padTop, padLeft, padBottom, padRight, outH, outW;
        switch (o.Padding)
        {
            case PaddingMode.Same:
                outH = CeilDiv(input.H, o.StrideH);
                outW = CeilDiv(input.W, o.StrideW);
                long totalH = Math.Max(0, (outH - 1) * o.StrideH + effH - input.H);
                long totalW = Math.Max(0, (outW - 1) * o.StrideW + effW - input.W);
                padTop = totalH / 2;
                padBottom = totalH - padTop;
                padLeft = totalW / 2;
                padRight = totalW - padLeft;
                break;
            case PaddingMode.Valid:
                padTop = padLeft = padBottom = padRight = 0;
                outH = outW = 0;
                break;
            default:
                padTop = o.PadTop;
                padLeft = o.PadLeft;
                padBottom = o.PadBottom;
                padRight = o.PadRight;
                outH = outW = 0;
                break;
        }

        long paddedH = input.H + padTop + padBottom;
        long paddedW = input.W + padLeft + padRight;
        // Kernels index in 32-bit arithmetic (oy * stride - pad + ky * dilation): keep every extent
        // at or below 2^30 so those sums cannot overflow.
        if (effH > MaxSpatialExtent || effW > MaxSpatialExtent)
        {
            errors.Add(new(kernelField,
                $"dilated kernel extent dilation * (k - 1) + 1 = {effH}x{effW} must not exceed {MaxSpatialExtent}"));
            return null;
        }

        if (paddedH > MaxSpatialExtent || paddedW > MaxSpatialExtent)
        {
            errors.Add(new(o.Padding == PaddingMode.Same ? "options.padding_mode" : "options.pads",
                $"padded input extent {paddedH}x{paddedW} must not exceed {MaxSpatialExtent}"));
            return null;
        }

        if (effH > paddedH || effW > paddedW)
        {
            string dilated = o.DilationH == 1 && o.DilationW == 1 ? "" : $" (dilated: {effH}x{effW})";
            errors.Add(new(kernelField,
                $"kernel {kernelH}x{kernelW}{dilated} must not be larger than the padded input {paddedH}x{paddedW}"));
            return null;
        }

        if (o.Padding != PaddingMode.Same)
        {
            outH = (paddedH - effH) / o.StrideH + 1;
            outW = (paddedW - effW) / o.StrideW + 1;
        }

        if (padTop > int.MaxValue || padBottom > int.MaxValue || padLeft > int.MaxValue || padRight > int.MaxValue
            || outH > int.MaxValue || outW > int.MaxValue)
        {
            errors.Add(new(kernelField, "resulting padding or output size must not exceed 2147483647"));
            return null;
        }

        var geometry = new Conv2dGeometry
        {
            Batch = (int)input.N,
            InChannels = (int)input.C,
            InHeight = (int)input.H,
            InWidth = (int)input.W,
            OutChannels = (int)outChannels,
            KernelH = (int)kernelH,
            KernelW = (int)kernelW,
            // With a single output row (column) the stride is never applied; normalising it to 1 keeps
            // the kernels' row-layout arithmetic (output extent x stride) far from int overflow.
            StrideH = outH == 1 ? 1 : o.StrideH,
            StrideW = outW == 1 ? 1 : o.StrideW,
            DilationH = o.DilationH,
            DilationW = o.DilationW,
            PadTop = (int)padTop,
            PadLeft = (int)padLeft,
            PadBottom = (int)padBottom,
            PadRight = (int)padRight,
            Groups = (int)groups,
            OutHeight = (int)outH,
            OutWidth = (int)outW,
            InputIsRank3 = input.Rank3,
        };

        if (!TryMultiply(out long outputElements, input.N, outChannels, outH, outW) || outputElements > MaxTensorElements)
        {
            errors.Add(new("output", $"output would have {Describe(input.N, outChannels, outH, outW)} elements; the limit is {MaxTensorElements}"));
            return null;
        }

        if (!TryMultiply(out _, outputElements, kernelH, kernelW, Math.Max(1, input.C / groups)))
        {
            errors.Add(new(kernelField, "multiplication count overflows 64 bits"));
            return null;
        }

        return geometry;
    }

    internal static long[] CheckRank4(ReadOnlySpan<long> shape, string field, string layout, List<FieldViolation> errors)
    {
        if (shape.Length != 4)
        {
            errors.Add(new(field, $"must have rank 4 {layout}, got rank {shape.Length}"));
            return [1, 1, 1, 1];
        }

        if (!AllPositive(shape, field, errors))
        {
            return [1, 1, 1, 1];
        }

        CheckElements(shape, field, errors);
        foreach (long d in shape)
        {
            if (d > int.MaxValue)
            {
                return [1, 1, 1, 1];
            }
        }

        return shape.ToArray();
    }

    /// <summary>An optional 1-D tensor (bias): empty means absent, otherwise exactly [expected].</summary>
    internal static void CheckVector(ReadOnlySpan<long> shape, long expected, string field, string what, List<FieldViolation> errors)
    {
        if (shape.IsEmpty)
        {
            return;
        }

        if (shape.Length != 1 || shape[0] != expected)
        {
            errors.Add(new(field, $"must be [{expected}] (one value per {what}), got [{string.Join(", ", shape.ToArray())}]"));
        }
    }

    internal static bool AllPositive(ReadOnlySpan<long> shape, string field, List<FieldViolation> errors)
    {
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] <= 0)
            {
                errors.Add(new(field, $"dimension {i} must be positive, got {shape[i]}"));
                return false;
            }

            if (shape[i] > int.MaxValue)
            {
                errors.Add(new(field, $"dimension {i} must not exceed 2147483647, got {shape[i]}"));
                return false;
            }
        }

        return true;
    }

    internal static void CheckElements(ReadOnlySpan<long> shape, string field, List<FieldViolation> errors)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (!TryMultiply(out count, count, d))
            {
                errors.Add(new(field, "element count overflows 64 bits"));
                return;
            }
        }

        CheckElements(count, field, errors);
    }

    internal static void CheckElements(long count, string field, List<FieldViolation> errors, string what = "tensor")
    {
        if (count > MaxTensorElements)
        {
            errors.Add(new(field, $"{what} would have {count} elements; the limit is {MaxTensorElements}"));
        }
    }

    /// <summary>Element count of a shape, or -1 when it is not a valid shape (non-positive dimension or overflow).</summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d <= 0 || !TryMultiply(out count, count, d))
            {
                return -1;
            }
        }

        return count;
    }

    internal static bool TryMultiply(out long product, params ReadOnlySpan<long> factors)
    {
        product = 1;
        foreach (long f in factors)
        {
            if (f < 0)
            {
                return false;
            }

            if (f != 0 && product > long.MaxValue / f)
            {
                product = 0;
                return false;
            }

            product *= f;
        }

        return true;
    }

    private static string Describe(params ReadOnlySpan<long> dims)
    {
        var parts = new string[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            parts[i] = dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return string.Join("x", parts);
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    private static void ThrowIfAny(List<FieldViolation> errors)
    {
        if (errors.Count > 0)
        {
            throw new ConvArgumentException(errors);
        }
    }
}
