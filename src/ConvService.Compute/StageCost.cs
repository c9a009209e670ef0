namespace ConvService.Compute;

/// <summary>Arithmetic and weights of one convolution stage, batch included; parameters exclude bias.</summary>
public readonly record struct StageCost(long Multiplications, long Additions, long Parameters)
{
    public static StageCost operator +(StageCost a, StageCost b) =>
        new(checked(a.Multiplications + b.Multiplications), checked(a.Additions + b.Additions), checked(a.Parameters + b.Parameters));
}
