using ConvService.Compute;

namespace ConvService.Api.Admission;

/// <summary>
/// Compute engines by intra-request thread budget, so concurrent computations do not oversubscribe the cores: with
/// <c>running</c> computations admitted on P processors, a new one may split over at most max(1, P / running) threads.
/// A plan fixes its thread count (ComputeOptions.MaxThreads), so each budget has its own engine and plan cache; budgets
/// are rounded down to P or a power of two, which keeps the engines (and their bounded caches) to 1 + log2(P).
/// A computation keeps the budget it started with, so one that started alone may still share cores with a later one.
/// </summary>
public sealed class ThreadBudgetEngines
{
    private readonly Lazy<ConvolutionEngine>[] _byBudget;

    public ThreadBudgetEngines(int processors)
    {
        Processors = Math.Max(1, processors);
        _byBudget = new Lazy<ConvolutionEngine>[Processors + 1];
        Lazy<ConvolutionEngine>? current = null;
        for (int budget = 1; budget <= Processors; budget++)
        {
            if (budget == Processors || budget == 1 || (budget & (budget - 1)) == 0)
            {
                int threads = budget;
                current = new Lazy<ConvolutionEngine>(() => new ConvolutionEngine(new ComputeOptions { MaxThreads = threads }));
            }

            _byBudget[budget] = current!;
        }
    }

    public int Processors { get; }

    /// <summary>max(1, P / running): the threads one of <paramref name="running"/> concurrent computations may use.</summary>
    public static int Budget(int processors, int running) => Math.Max(1, processors / Math.Max(1, running));

    /// <summary>The engine for a computation admitted while <paramref name="running"/> computations (itself included) run.</summary>
    public ConvolutionEngine For(int running) => _byBudget[Budget(Processors, running)].Value;
}
