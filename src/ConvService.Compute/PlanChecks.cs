namespace ConvService.Compute;

/// <summary>Span-length checks shared by the plans: a wrong length is a caller bug, reported before any work.</summary>
internal static class PlanChecks
{
    public static void Lengths(ReadOnlySpan<float> input, long inputElements, ReadOnlySpan<float> output, long outputElements)
    {
        if (input.Length != inputElements)
        {
            throw new ArgumentException($"input has {input.Length} elements, the plan needs {inputElements}", nameof(input));
        }

        if (output.Length != outputElements)
        {
            throw new ArgumentException($"output has {output.Length} elements, the plan needs {outputElements}", nameof(output));
        }
    }

    public static void Weights(Conv2dGeometry g, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, string weightName, string biasName)
    {
        if (weight.Length != g.WeightElements)
        {
            throw new ArgumentException($"{weightName} has {weight.Length} elements, geometry needs {g.WeightElements}", weightName);
        }

        if (!bias.IsEmpty && bias.Length != g.OutChannels)
        {
            throw new ArgumentException($"{biasName} has {bias.Length} elements, geometry needs {g.OutChannels}", biasName);
        }
    }
}
