namespace ConvService.Compute;

/// <summary>
/// What a convolution costs without running it. Standard: every output sums C/groups * Kh * Kw
/// products. Depthwise-separable: a Kh x Kw depthwise stage with depth multiplier M (C*M outputs
/// per position, one product per tap), then a 1x1 pointwise stage (C*M products per output).
/// Additions count the sums of products: terms - 1 per output; bias is excluded throughout.
/// </summary>
public static class CostModel
{
    /// <summary>
    /// input [C,H,W] or [N,C,H,W]; kernel [k] or [kh, kw]; output channels; depth multiplier
    /// (0 means 1). Options' stride, dilation and padding apply to both forms; groups to standard only.
    /// </summary>
    public static CostEstimate Estimate(
        ReadOnlySpan<long> inputShape,
        ReadOnlySpan<int> kernelSize,
        long outputChannels,
        int depthMultiplier,
        Conv2dOptions options)
    {
        var errors = new List<FieldViolation>();
        var input = ConvShapes.CheckInput(inputShape, "input_shape", errors);
        ConvShapes.CheckOptions(options, "options", errors, checkGroups: true);
        long kh = 0, kw = 0;
        if (kernelSize.Length is 1 or 2)
        {
            kh = kernelSize[0];
            kw = kernelSize[^1];
            if (kh <= 0 || kw <= 0)
            {
                errors.Add(new("kernel_size", $"must be positive, got [{string.Join(", ", kernelSize.ToArray())}]"));
            }
        }
        else
        {
            errors.Add(new("kernel_size", $"must have 1 value [k] or 2 values [kh, kw], got {kernelSize.Length}"));
        }

        if (outputChannels <= 0 || outputChannels > int.MaxValue)
        {
            errors.Add(new("output_channels", $"must be between 1 and 2147483647, got {outputChannels}"));
        }

        if (depthMultiplier < 0)
        {
            errors.Add(new("depth_multiplier", $"must be positive (0 means 1), got {depthMultiplier}"));
        }

        int multiplier = depthMultiplier == 0 ? 1 : depthMultiplier;
        if (errors.Count == 0 && options.Groups > 0)
        {
            if (input.C % options.Groups != 0)
            {
                errors.Add(new("options.groups", $"input channels ({input.C}) must be divisible by groups ({options.Groups})"));
            }

            if (outputChannels % options.Groups != 0)
            {
                errors.Add(new("options.groups", $"output channels ({outputChannels}) must be divisible by groups ({options.Groups})"));
            }
        }

        if (!ConvShapes.TryMultiply(out long midChannels, input.C, multiplier) || midChannels > int.MaxValue)
        {
            errors.Add(new("depth_multiplier", $"channels * depth_multiplier must not exceed 2147483647"));
        }

        Throw(errors);
        var standard = ConvShapes.Resolve(input, outputChannels, options.Groups, kh, kw, options, "kernel_size", errors);
        Throw(errors);
        var depthwise = ConvShapes.Resolve(input, midChannels, input.C, kh, kw, options with { Groups = (int)input.C }, "kernel_size", errors);
        Throw(errors);
        long positions = checked((long)standard!.Batch * standard.OutHeight * standard.OutWidth);
        try
        {
            checked
            {
                long standardTerms = input.C / options.Groups * kh * kw;
                long standardOutputs = positions * outputChannels;
                var standardCost = new StageCost(
                    standardOutputs * standardTerms,
                    standardOutputs * (standardTerms - 1),
                    outputChannels * standardTerms);

                long depthwiseOutputs = positions * midChannels;
                var depthwiseCost = new StageCost(
                    depthwiseOutputs * kh * kw,
                    depthwiseOutputs * (kh * kw - 1),
                    midChannels * kh * kw);

                long pointwiseOutputs = positions * outputChannels;
                var pointwiseCost = new StageCost(
                    pointwiseOutputs * midChannels,
                    pointwiseOutputs * (midChannels - 1),
                    outputChannels * midChannels);

                _ = depthwiseCost + pointwiseCost; // overflow check of the sum, here rather than in a getter
                return new CostEstimate(standard.OutputShape, standardCost, depthwiseCost, pointwiseCost);
            }
        }
        catch (OverflowException)
        {
            throw new ConvArgumentException("input_shape", "the cost of this convolution overflows 64-bit counters");
        }
    }

    private static void Throw(List<FieldViolation> errors)
    {
        if (errors.Count > 0)
        {
            throw new ConvArgumentException(errors);
        }
    }
}
