using FsCheck;
using FsCheck.Fluent;

namespace ConvService.Fuzz.Tests;

/// <summary>Seeds spread over the whole int range, so every FsCheck case is a different request.</summary>
public static class SeedArbitraries
{
    public static Arbitrary<FuzzSeed> Seeds() => Gen.Choose(0, int.MaxValue).Select(v => new FuzzSeed(v)).ToArbitrary();
}
