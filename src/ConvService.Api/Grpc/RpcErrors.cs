using ConvService.Compute;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace ConvService.Api.Grpc;

/// <summary>The service's error model: every refusal is an RpcException with a gRPC status (and, over REST, the matching HTTP status).</summary>
public static class RpcErrors
{
    /// <summary>INVALID_ARGUMENT with a google.rpc.BadRequest listing every field violation (REST: 400 with the same JSON details).</summary>
    public static RpcException InvalidArgument(IReadOnlyList<FieldViolation> violations)
    {
        var badRequest = new BadRequest();
        foreach (var v in violations)
        {
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description });
        }

        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = "invalid request: " + string.Join("; ", violations),
            Details = { Any.Pack(badRequest) },
        };
        return status.ToRpcException();
    }

    /// <summary>RESOURCE_EXHAUSTED (REST: 429) for a request over a configured limit; retrying the same request will not help.</summary>
    public static RpcException OverLimit(string message) =>
        new(new global::Grpc.Core.Status(StatusCode.ResourceExhausted, message));

    /// <summary>RESOURCE_EXHAUSTED (REST: 429) for a full queue, with a retry hint in the trailers.</summary>
    public static RpcException Busy(string message, TimeSpan retryAfter) =>
        new(new global::Grpc.Core.Status(StatusCode.ResourceExhausted, message), new Metadata
        {
            { "grpc-retry-pushback-ms", ((long)retryAfter.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });

    /// <summary>The canonical upper-case name of a status code, as the conv.requests metric and logs use it.</summary>
    public static string CodeName(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Unknown => "UNKNOWN",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        _ => ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
