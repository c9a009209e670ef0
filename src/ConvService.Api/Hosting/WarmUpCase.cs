using ConvService.Compute;

namespace ConvService.Api.Hosting;

/// <summary>One start-up convolution: a name for the log and a tiny computation run on the engine the handlers use.</summary>
public sealed record WarmUpCase(string Name, Func<ConvolutionEngine, CancellationToken, ExecutionResult> Run);
