using ConvService.Compute;

namespace ConvService.Fuzz.Tests;

/// <summary>Arguments of one ConvShapes.SpatiallySeparable call.</summary>
public sealed record SpatialCase(long[] Input, long ColumnLength, long RowLength, Conv2dOptions Options)
{
    public override string ToString() => $"input [{string.Join(",", Input)}] column {ColumnLength} row {RowLength} {Options}";
}
