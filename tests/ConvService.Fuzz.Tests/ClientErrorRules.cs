using ConvService.Compute;

namespace ConvService.Fuzz.Tests;

/// <summary>The shape of an acceptable refusal from the compute validation.</summary>
public static class ClientErrorRules
{
    /// <summary>A ConvArgumentException must name at least one field and say what is wrong with each.</summary>
    public static string? Check(ConvArgumentException e)
    {
        if (e.Violations.Count == 0 || string.IsNullOrWhiteSpace(e.Message))
        {
            return "ConvArgumentException without violations or message";
        }

        foreach (var violation in e.Violations)
        {
            if (string.IsNullOrWhiteSpace(violation.Field) || string.IsNullOrWhiteSpace(violation.Description))
            {
                return $"violation with an empty field or description: '{violation}'";
            }
        }

        return null;
    }
}
