using ConvService.Compute;
using ConvService.Contract.V1;
using ComputePaddingMode = ConvService.Compute.PaddingMode;

namespace ConvService.Api.Mapping;

/// <summary>
/// Contract messages to compute types. Applies the contract's defaults (a zero or empty field means
/// its default) and checks list lengths; every other rule is ConvShapes' job. Violations are
/// collected, not thrown, so the client hears about all of them at once.
/// </summary>
public static class ContractMapper
{
    /// <summary>stride/dilation: empty = [1, 1], one value = both axes; pads: empty = zeros, else exactly 4; groups 0 = 1.</summary>
    public static Conv2dOptions ToOptions(ConvOptions? options, List<FieldViolation> errors)
    {
        options ??= new ConvOptions();
        var (strideH, strideW) = Pair(options.Stride, "options.stride", errors);
        var (dilationH, dilationW) = Pair(options.Dilation, "options.dilation", errors);
        int top = 0, left = 0, bottom = 0, right = 0;
        if (options.Pads.Count == 4)
        {
            (top, left, bottom, right) = (options.Pads[0], options.Pads[1], options.Pads[2], options.Pads[3]);
        }
        else if (options.Pads.Count != 0)
        {
            errors.Add(new("options.pads", $"must be empty (no padding) or have 4 values [top, left, bottom, right], got {options.Pads.Count}"));
        }

        return new Conv2dOptions
        {
            StrideH = strideH,
            StrideW = strideW,
            DilationH = dilationH,
            DilationW = dilationW,
            PadTop = top,
            PadLeft = left,
            PadBottom = bottom,
            PadRight = right,
            // The contract's enum numbers match the compute enum's (UNSPECIFIED = explicit pads); unknown numbers are reported by ConvShapes.
            Padding = (ComputePaddingMode)(int)options.PaddingMode,
            Groups = options.Groups == 0 ? 1 : options.Groups,
        };
    }

    /// <summary>Runs the shape rules and reports the mapping's violations together with theirs.</summary>
    public static T Validate<T>(List<FieldViolation> mappingErrors, Func<T> validate)
    {
        T result;
        try
        {
            result = validate();
        }
        catch (ConvArgumentException e) when (mappingErrors.Count > 0)
        {
            throw new ConvArgumentException([.. mappingErrors, .. e.Violations]);
        }

        if (mappingErrors.Count > 0)
        {
            throw new ConvArgumentException(mappingErrors);
        }

        return result;
    }

    public static EstimateCostResponse ToResponse(CostEstimate estimate)
    {
        var response = new EstimateCostResponse
        {
            Standard = ToStage(estimate.Standard),
            Depthwise = ToStage(estimate.Depthwise),
            Pointwise = ToStage(estimate.Pointwise),
            Separable = ToStage(estimate.Separable),
            MultiplicationRatio = estimate.MultiplicationRatio,
            ParameterRatio = estimate.ParameterRatio,
        };
        response.OutputShape.AddRange(estimate.OutputShape);
        return response;
    }

    private static Contract.V1.StageCost ToStage(Compute.StageCost cost) => new()
    {
        Multiplications = cost.Multiplications,
        Additions = cost.Additions,
        Parameters = cost.Parameters,
    };

    private static (int H, int W) Pair(IReadOnlyList<int> values, string field, List<FieldViolation> errors)
    {
        switch (values.Count)
        {
            case 0:
                return (1, 1);
            case 1:
                return (values[0], values[0]);
            case 2:
                return (values[0], values[1]);
            default:
                errors.Add(new(field, $"must be empty (default 1), one value for both axes or two values [h, w], got {values.Count}"));
                return (1, 1);
        }
    }
}
