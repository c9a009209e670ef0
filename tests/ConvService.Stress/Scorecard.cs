namespace ConvService.Stress;

/// <summary>Pass/fail checks of one run, printed as they are decided, with the closing "N passed, N failed" line.</summary>
public sealed class Scorecard
{
    private readonly Lock gate = new();

    public int Passed { get; private set; }
    public int Failed { get; private set; }

    public void Check(string name, bool passed, string detail)
    {
        lock (gate)
        {
            if (passed)
            {
                Passed++;
            }
            else
            {
                Failed++;
            }

            Console.WriteLine($"{(passed ? "PASS" : "FAIL")} {name}: {detail}");
        }
    }

    public static void Report(string line)
    {
        Console.WriteLine($"  {line}");
    }

    public void PrintTotals()
    {
        Console.WriteLine($"{Passed} passed, {Failed} failed");
    }
}
