using System.Numerics;
using ConvService.Compute;
using FsCheck;
using FsCheck.Xunit;

namespace ConvService.Fuzz.Tests;

/// <summary>
/// Property: for any shapes and options, validation either returns a geometry that satisfies
/// every invariant, or throws ConvArgumentException naming a field with a message; it never
/// throws anything else (no OverflowException, IndexOutOfRange, plain ArgumentException...).
/// 20,000 cases per entry point, about 80,000 in all.
/// </summary>
[Properties(Arbitrary = [typeof(ShapeArbitraries)], MaxTest = 20_000, QuietOnSuccess = true)]
public sealed class ValidationProperties
{
    [Property]
    public void StandardValidatesOrRefusesCleanly(StandardCase c) =>
        Expect(() => GeometryInvariants.Check(ConvShapes.Standard(c.Input, c.Weight, c.Bias, c.Options), c.Input, c.Options));

    [Property]
    public void DepthwiseSeparableValidatesOrRefusesCleanly(DepthwiseCase c) => Expect(() =>
    {
        var g = ConvShapes.DepthwiseSeparable(c.Input, c.Depthwise, c.Pointwise, c.DepthwiseBias, c.PointwiseBias, c.Options);
        string? problem = GeometryInvariants.Check(g.Depthwise, c.Input, c.Options)
            ?? GeometryInvariants.Counts(g.Pointwise);
        if (problem is not null)
        {
            return problem;
        }

        if (g.Pointwise.InChannels != g.Depthwise.OutChannels || g.Pointwise.InHeight != g.Depthwise.OutHeight || g.Pointwise.InWidth != g.Depthwise.OutWidth)
        {
            return "pointwise stage does not read the depthwise output";
        }

        if (g.Depthwise.Groups != g.Depthwise.InChannels || g.Depthwise.OutChannels != (long)g.Depthwise.InChannels * g.DepthMultiplier)
        {
            return $"depthwise stage is not depthwise with multiplier {g.DepthMultiplier}";
        }

        var total = (BigInteger)g.Depthwise.Multiplications + g.Pointwise.Multiplications;
        return total > long.MaxValue || total != g.Multiplications ? $"total multiplications {g.Multiplications} differ from exact {total}" : null;
    });

    [Property]
    public void SpatiallySeparableValidatesOrRefusesCleanly(SpatialCase c) => Expect(() =>
    {
        var g = ConvShapes.SpatiallySeparable(c.Input, c.ColumnLength, c.RowLength, c.Options with { Groups = 1 });
        // SAME padding makes any tap count legal; the equivalent C x Kh x Kw kernel may then exceed int range, so engines must not materialise it.
        string? problem = GeometryInvariants.Check(g.Equivalent, c.Input, c.Options, weightsSent: false);
        if (problem is not null)
        {
            return problem;
        }

        if (g.Equivalent.KernelH != c.ColumnLength || g.Equivalent.KernelW != c.RowLength || g.Equivalent.OutChannels != g.Equivalent.InChannels)
        {
            return "equivalent depthwise kernel does not match column x row";
        }

        var exact = (BigInteger)g.OutputElements * (c.ColumnLength + c.RowLength);
        return exact > long.MaxValue || exact != g.Multiplications ? $"multiplications {g.Multiplications} differ from exact {exact}" : null;
    });

    [Property]
    public void CostEstimateValidatesOrRefusesCleanly(EstimateCase c) => Expect(() =>
    {
        var estimate = CostModel.Estimate(c.Input, c.Kernel, c.OutputChannels, c.DepthMultiplier, c.Options);
        if (estimate.OutputShape.Length != c.Input.Length || estimate.OutputShape.Any(d => d <= 0))
        {
            return $"output shape [{string.Join(",", estimate.OutputShape)}]";
        }

        // Standard multiplications recomputed exactly: outputs x (C / groups) x kh x kw.
        var outputs = estimate.OutputShape.Aggregate(BigInteger.One, (p, d) => p * d);
        long channels = c.Input[^3];
        var standard = outputs * (channels / c.Options.Groups) * c.Kernel[0] * c.Kernel[^1];
        if (standard != estimate.Standard.Multiplications)
        {
            return $"standard multiplications {estimate.Standard.Multiplications}, exact {standard}";
        }

        var separable = estimate.Separable;
        StageCost[] stages = [estimate.Standard, estimate.Depthwise, estimate.Pointwise, separable];
        return stages.Any(s => s.Multiplications < 0 || s.Additions < 0 || s.Parameters <= 0) ? "negative or empty stage cost" : null;
    });

    /// <summary>Runs one validation: a returned problem or any exception but ConvArgumentException fails the property.</summary>
    private static void Expect(Func<string?> validateAndCheck)
    {
        string? problem;
        try
        {
            problem = validateAndCheck();
        }
        catch (ConvArgumentException e)
        {
            problem = ClientErrorRules.Check(e);
        }

        if (problem is not null)
        {
            throw new Xunit.Sdk.XunitException(problem);
        }
    }
}
