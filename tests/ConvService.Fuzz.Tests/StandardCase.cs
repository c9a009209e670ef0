using ConvService.Compute;

namespace ConvService.Fuzz.Tests;

/// <summary>Arguments of one ConvShapes.Standard call, printed readably when FsCheck reports a counterexample.</summary>
public sealed record StandardCase(long[] Input, long[] Weight, long[] Bias, Conv2dOptions Options)
{
    public override string ToString() => $"input [{string.Join(",", Input)}] weight [{string.Join(",", Weight)}] bias [{string.Join(",", Bias)}] {Options}";
}
