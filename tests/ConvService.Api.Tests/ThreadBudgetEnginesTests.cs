using ConvService.Api.Admission;

namespace ConvService.Api.Tests;

/// <summary>Concurrent computations split the cores: max(1, P / running) threads each, rounded down to P or a power of two.</summary>
public sealed class ThreadBudgetEnginesTests
{
    [Theory]
    [InlineData(2, 1, 2)]
    [InlineData(2, 2, 1)]
    [InlineData(2, 7, 1)]
    [InlineData(8, 1, 8)]
    [InlineData(8, 2, 4)]
    [InlineData(8, 3, 2)]
    [InlineData(8, 5, 1)]
    [InlineData(6, 1, 6)]
    [InlineData(6, 2, 2)]
    [InlineData(6, 3, 2)]
    [InlineData(6, 4, 1)]
    [InlineData(1, 1, 1)]
    public void EngineThreadsNeverExceedTheShareOfCores(int processors, int running, int expectedThreads)
    {
        var engines = new ThreadBudgetEngines(processors);

        var engine = engines.For(running);

        Assert.Equal(expectedThreads, engine.Options.MaxThreads);
        Assert.True(engine.Options.MaxThreads <= ThreadBudgetEngines.Budget(processors, running));
        Assert.True(engine.Options.MaxThreads * running <= Math.Max(processors, running));
    }

    [Fact]
    public void BudgetsThatRoundAlikeShareOneEngineAndItsPlanCache()
    {
        var engines = new ThreadBudgetEngines(12);

        Assert.Same(engines.For(4), engines.For(5)); // 3 and 2 threads both round to 2
        Assert.Same(engines.For(7), engines.For(100));
        Assert.NotSame(engines.For(1), engines.For(2));
        Assert.Equal(12, engines.For(1).Options.MaxThreads);
        Assert.Equal(4, engines.For(2).Options.MaxThreads); // 6 rounds down to 4
    }
}
