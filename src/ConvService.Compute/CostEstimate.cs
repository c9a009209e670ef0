namespace ConvService.Compute;

/// <summary>Standard convolution against its depthwise-separable counterpart, with the same output shape.</summary>
public sealed record CostEstimate(
    long[] OutputShape,
    StageCost Standard,
    StageCost Depthwise,
    StageCost Pointwise)
{
    public StageCost Separable => Depthwise + Pointwise;

    /// <summary>Standard multiplications / separable multiplications.</summary>
    public double MultiplicationRatio => (double)Standard.Multiplications / Separable.Multiplications;

    /// <summary>Standard parameters / separable parameters.</summary>
    public double ParameterRatio => (double)Standard.Parameters / Separable.Parameters;
}
