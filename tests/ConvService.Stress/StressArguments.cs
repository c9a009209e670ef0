using System.Globalization;

namespace ConvService.Stress;

/// <summary>"--name value" options after the subcommand; every value has a default so runs stay bounded.</summary>
public sealed class StressArguments
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    public StressArguments(IEnumerable<string> args)
    {
        string? pending = null;
        foreach (string arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (pending is not null)
                {
                    values[pending] = "true";
                }

                pending = arg[2..];
            }
            else if (pending is not null)
            {
                values[pending] = arg;
                pending = null;
            }
            else
            {
                throw new ArgumentException($"unexpected argument '{arg}'");
            }
        }

        if (pending is not null)
        {
            values[pending] = "true";
        }
    }

    public string Text(string name, string fallback) => values.GetValueOrDefault(name, fallback);

    public string? OptionalText(string name) => values.GetValueOrDefault(name);

    public int Integer(string name, int fallback) =>
        values.TryGetValue(name, out string? text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public double Number(string name, double fallback) =>
        values.TryGetValue(name, out string? text) ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public int? OptionalInteger(string name) =>
        values.TryGetValue(name, out string? text) ? int.Parse(text, CultureInfo.InvariantCulture) : null;

    /// <summary>A service URL; only loopback addresses are accepted, so a stress run can never leave this machine.</summary>
    public Uri LoopbackUrl(string name, string fallback)
    {
        var uri = new Uri(Text(name, fallback));
        if (!uri.IsLoopback)
        {
            throw new ArgumentException($"--{name} must be a loopback address (127.0.0.0/8, localhost, [::1]), got {uri}");
        }

        return uri;
    }
}
