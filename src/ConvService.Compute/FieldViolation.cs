namespace ConvService.Compute;

/// <summary>One broken rule: the request field (contract path, e.g. "weight.shape") and what is wrong with it.</summary>
public readonly record struct FieldViolation(string Field, string Description)
{
    public override string ToString() => $"{Field}: {Description}";
}
