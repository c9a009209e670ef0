namespace ConvService.Compute;

/// <summary>
/// The caller's shapes or options break a rule. Thrown before anything is allocated; carries
/// every violation found so a client can fix them all at once.
/// </summary>
public sealed class ConvArgumentException : ArgumentException
{
    public ConvArgumentException(IReadOnlyList<FieldViolation> violations)
        : base(string.Join("; ", violations))
    {
        if (violations.Count == 0)
        {
            throw new ArgumentException("At least one violation is required.", nameof(violations));
        }

        Violations = violations;
    }

    public ConvArgumentException(string field, string description)
        : this([new FieldViolation(field, description)])
    {
    }

    public IReadOnlyList<FieldViolation> Violations { get; }
}
