using Grpc.Core;

namespace ConvService.Api.Grpc;

/// <summary>
/// What one call did, filled in by the handler and written once, as the call's completion event, by
/// <see cref="RpcCallInterceptor"/>. Lives in ServerCallContext.UserState for the call's duration.
/// </summary>
public sealed class CallRecord
{
    private static readonly object Key = new();

    public string Kind { get; set; } = "";
    public string Shape { get; set; } = "";
    public long Multiplications { get; set; }
    public double QueueWaitMs { get; set; }
    public double ComputeMs { get; set; }
    public string Algorithm { get; set; } = "";

    /// <summary>Set when the server's own deadline (DefaultDeadlineSeconds) cancelled the call.</summary>
    public bool ServerDeadlineExpired { get; set; }

    public static CallRecord Attach(ServerCallContext context)
    {
        var record = new CallRecord();
        context.UserState[Key] = record;
        return record;
    }

    /// <summary>True once the interceptor has taken charge of the call (gRPC exposes HttpContext.Items as UserState).</summary>
    public static bool IsAttached(HttpContext httpContext) => httpContext.Items.ContainsKey(Key);

    /// <summary>The call's record, or a detached one when no interceptor attached it (the handler never needs to check).</summary>
    public static CallRecord Of(ServerCallContext context) =>
        context.UserState.TryGetValue(Key, out var value) && value is CallRecord record ? record : new CallRecord();
}
