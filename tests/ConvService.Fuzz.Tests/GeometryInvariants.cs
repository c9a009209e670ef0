using System.Numerics;
using ConvService.Compute;

namespace ConvService.Fuzz.Tests;

/// <summary>
/// What a geometry the validator accepted must satisfy, recomputed in BigInteger so no overflow
/// can hide: positive dimensions, non-negative pads, the output-size formula, SAME's rule, and
/// element/multiplication counts that fit. Each method returns the first broken rule, or null.
/// </summary>
public static class GeometryInvariants
{
    /// <param name="weightsSent">False for the spatially separable form: its equivalent OIHW kernel is never sent, only column and row.</param>
    public static string? Check(Conv2dGeometry g, ReadOnlySpan<long> inputShape, Conv2dOptions options, bool weightsSent = true)
    {
        int[] positives = [g.Batch, g.InChannels, g.InHeight, g.InWidth, g.OutChannels, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.DilationH, g.DilationW, g.Groups, g.OutHeight, g.OutWidth];
        if (positives.Any(v => v <= 0))
        {
            return $"non-positive dimension in {g.ShapeSummary}";
        }

        if (g.PadTop < 0 || g.PadLeft < 0 || g.PadBottom < 0 || g.PadRight < 0)
        {
            return $"negative padding in {g.ShapeSummary}";
        }

        long[] expectedInput = inputShape.Length == 3 ? [1, inputShape[0], inputShape[1], inputShape[2]] : inputShape.ToArray();
        if (expectedInput[0] != g.Batch || expectedInput[1] != g.InChannels || expectedInput[2] != g.InHeight || expectedInput[3] != g.InWidth)
        {
            return $"input dimensions {g.ShapeSummary} differ from the request [{string.Join(",", inputShape.ToArray())}]";
        }

        if (g.InputIsRank3 != (inputShape.Length == 3) || g.OutputShape.Length != inputShape.Length)
        {
            return "output rank differs from input rank";
        }

        if (g.InChannels % g.Groups != 0 || g.OutChannels % g.Groups != 0)
        {
            return $"groups {g.Groups} do not divide the channels in {g.ShapeSummary}";
        }

        return Axis("height", g.InHeight, g.KernelH, options.StrideH, g.StrideH, g.DilationH, g.PadTop, g.PadBottom, g.OutHeight, options.Padding, options.PadTop, options.PadBottom)
            ?? Axis("width", g.InWidth, g.KernelW, options.StrideW, g.StrideW, g.DilationW, g.PadLeft, g.PadRight, g.OutWidth, options.Padding, options.PadLeft, options.PadRight)
            ?? Counts(g, weightsSent);
    }

    public static string? Counts(Conv2dGeometry g, bool weightsSent = true)
    {
        var input = (BigInteger)g.Batch * g.InChannels * g.InHeight * g.InWidth;
        var output = (BigInteger)g.Batch * g.OutChannels * g.OutHeight * g.OutWidth;
        var weight = (BigInteger)g.OutChannels * (g.InChannels / g.Groups) * g.KernelH * g.KernelW;
        if (input > ConvShapes.MaxTensorElements || output > ConvShapes.MaxTensorElements || (weightsSent && weight > ConvShapes.MaxTensorElements))
        {
            return $"element counts {input}/{output}/{weight} exceed {ConvShapes.MaxTensorElements} in {g.ShapeSummary}";
        }

        if (input != g.InputElements || output != g.OutputElements || (weightsSent && weight != g.WeightElements))
        {
            return $"element counts disagree with exact arithmetic in {g.ShapeSummary}";
        }

        var multiplications = output * (g.InChannels / g.Groups) * g.KernelH * g.KernelW;
        if (multiplications > long.MaxValue || multiplications != g.Multiplications)
        {
            return $"multiplications {g.Multiplications} differ from exact {multiplications} in {g.ShapeSummary}";
        }

        return null;
    }

    /// <param name="stride">The stride the caller asked for; the formulas use it.</param>
    /// <param name="geometryStride">The geometry's stride: the same, or 1 when the axis has a single output (the stride is then never applied).</param>
    private static string? Axis(
        string axis, long size, long kernel, long stride, long geometryStride, long dilation, long padBegin, long padEnd, long output,
        PaddingMode mode, long askedBegin, long askedEnd)
    {
        if (geometryStride != stride && !(output == 1 && geometryStride == 1))
        {
            return $"{axis}: stride {geometryStride} in the geometry, {stride} asked, output {output}";
        }

        var extent = dilation * (kernel - 1) + 1;
        if (extent > size + padBegin + padEnd)
        {
            return $"{axis}: dilated kernel {extent} larger than padded input {size + padBegin + padEnd}";
        }

        long expected = (size + padBegin + padEnd - extent) / stride + 1;
        if (output != expected)
        {
            return $"{axis}: output {output}, formula gives {expected}";
        }

        switch (mode)
        {
            case PaddingMode.Same:
                long total = Math.Max(0, (output - 1) * stride + extent - size);
                if (output != (size + stride - 1) / stride || padBegin + padEnd != total || padEnd - padBegin is not (0 or 1))
                {
                    return $"{axis}: SAME gave output {output} pads {padBegin}+{padEnd}";
                }

                break;
            case PaddingMode.Valid when padBegin != 0 || padEnd != 0:
                return $"{axis}: VALID with pads {padBegin}+{padEnd}";
            case PaddingMode.Explicit when padBegin != askedBegin || padEnd != askedEnd:
                return $"{axis}: pads {padBegin}+{padEnd}, asked {askedBegin}+{askedEnd}";
            default:
                break;
        }

        return null;
    }
}
