using ConvService.Compute;
using FsCheck.Xunit;

namespace ConvService.Fuzz.Tests;

/// <summary>
/// Property: whatever geometry the validator accepts (including hostile but legal strides,
/// dilations and pads such as 2^31-1 with a tiny input), the engine runs it without throwing and
/// writes finite values for finite inputs. Cases are kept small (at most 16,384 elements per
/// tensor and 10^6 multiplications) so 3 x 15,000 cases run in seconds; about 13-16% of the generated
/// cases are accepted and small, so the engine runs roughly 2,000 geometries per kind.
/// </summary>
[Properties(Arbitrary = [typeof(ShapeArbitraries)], MaxTest = 15_000, QuietOnSuccess = true)]
public sealed class EngineProperties
{
    private const long MaxElements = 1 << 14;
    private const long MaxMultiplications = 1_000_000;
    private static readonly ConvolutionEngine Engine = new();

    [Property]
    public void StandardRunsWhateverValidationAccepts(StandardCase c)
    {
        if (Accepted(() => ConvShapes.Standard(c.Input, c.Weight, c.Bias, c.Options)) is not { } g || !Small(g))
        {
            return;
        }

        var output = new float[g.OutputElements];
        Engine.Convolve(g, Values(g.InputElements), Values(g.WeightElements), Values(c.Bias.Length == 0 ? 0 : g.OutChannels), output);
        ExpectFinite(output, g.ShapeSummary);
    }

    [Property]
    public void DepthwiseSeparableRunsWhateverValidationAccepts(DepthwiseCase c)
    {
        if (Accepted(() => ConvShapes.DepthwiseSeparable(c.Input, c.Depthwise, c.Pointwise, c.DepthwiseBias, c.PointwiseBias, c.Options)) is not { } g
            || !Small(g.Depthwise) || !Small(g.Pointwise))
        {
            return;
        }

        var output = new float[g.OutputElements];
        Engine.DepthwiseSeparable(
            g, Values(g.Depthwise.InputElements), Values(g.Depthwise.WeightElements), Values(g.Pointwise.WeightElements),
            Values(c.DepthwiseBias.Length == 0 ? 0 : g.Depthwise.OutChannels), Values(c.PointwiseBias.Length == 0 ? 0 : g.Pointwise.OutChannels), output);
        ExpectFinite(output, g.Depthwise.ShapeSummary);
    }

    [Property]
    public void SpatiallySeparableRunsWhateverValidationAccepts(SpatialCase c)
    {
        if (Accepted(() => ConvShapes.SpatiallySeparable(c.Input, c.ColumnLength, c.RowLength, c.Options with { Groups = 1 })) is not { } g
            || !Small(g.Equivalent))
        {
            return;
        }

        var output = new float[g.OutputElements];
        Engine.SpatiallySeparable(g, Values(g.Equivalent.InputElements), Values(g.Equivalent.KernelH), Values(g.Equivalent.KernelW), output);
        ExpectFinite(output, g.Equivalent.ShapeSummary);
    }

    private static T? Accepted<T>(Func<T> validate)
        where T : class
    {
        try
        {
            return validate();
        }
        catch (ConvArgumentException)
        {
            return null; // refusals are ValidationProperties' business
        }
    }

    private static bool Small(Conv2dGeometry g) =>
        g.InputElements <= MaxElements && g.OutputElements <= MaxElements && g.WeightElements <= MaxElements && g.Multiplications <= MaxMultiplications;

    private static float[] Values(long count)
    {
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (i % 7) - 3;
        }

        return values;
    }

    private static void ExpectFinite(float[] output, string shape)
    {
        for (int i = 0; i < output.Length; i++)
        {
            if (!float.IsFinite(output[i]))
            {
                throw new Xunit.Sdk.XunitException($"output[{i}] = {output[i]} for {shape}");
            }
        }
    }
}
