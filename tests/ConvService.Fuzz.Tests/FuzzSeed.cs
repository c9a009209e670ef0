namespace ConvService.Fuzz.Tests;

/// <summary>Seed of one hostile request from the shared generator; FsCheck draws it, the generator turns it into bytes.</summary>
public sealed record FuzzSeed(int Value);
