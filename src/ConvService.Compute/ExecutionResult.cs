namespace ConvService.Compute;

/// <summary>What the engine ran: the algorithm the planner chose and the multiplications it cost.</summary>
public readonly record struct ExecutionResult(string Algorithm, long Multiplications);
