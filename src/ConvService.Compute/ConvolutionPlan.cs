namespace ConvService.Compute;

/// <summary>
/// A convolution prepared once for one geometry and one set of weights: algorithm chosen,
/// weights packed. Execute may be called many times, from any thread, with new inputs.
/// </summary>
public abstract class ConvolutionPlan
{
    /// <summary>The algorithm the planner chose, e.g. "direct-avx512".</summary>
    public abstract string Algorithm { get; }

    /// <summary>Multiplications one execution costs under the chosen algorithm's cost model.</summary>
    public abstract long Multiplications { get; }

    /// <summary>Input elements one execution reads.</summary>
    public abstract long InputElements { get; }

    /// <summary>Output elements one execution writes.</summary>
    public abstract long OutputElements { get; }

    /// <summary>Runs the convolution; writes every element of <paramref name="output"/> once.</summary>
    public abstract void Execute(ReadOnlySpan<float> input, Span<float> output, CancellationToken cancellationToken = default);
}
