using System.Diagnostics;
using ConvService.Api.Telemetry;
using ConvService.Compute;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace ConvService.Api.Grpc;

/// <summary>
/// Outermost interceptor of every gRPC and transcoded REST call. Turns exceptions into statuses
/// (shape violations: INVALID_ARGUMENT with BadRequest; cancellation: CANCELLED/DEADLINE_EXCEEDED;
/// anything else: INTERNAL, logged as a bug) and, for the Convolution service, writes the call's
/// single completion event and counts it in conv.requests.
/// </summary>
public sealed class RpcCallInterceptor(ConvMetrics metrics, ILogger<RpcCallInterceptor> logger) : Interceptor
{
    public const string ServicePrefix = "/conv.v1.Convolution/";

    /// <summary>How far before its deadline a cancelled call still counts as having hit it (see <see cref="IsPastDeadline"/>).</summary>
    private static readonly TimeSpan DeadlineSlack = TimeSpan.FromMilliseconds(250);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!context.Method.StartsWith(ServicePrefix, StringComparison.Ordinal))
        {
            try
            {
                return await continuation(request, context);
            }
            catch (Exception ex) when (ex is not RpcException)
            {
                throw Translate(ex, context, null);
            }
        }

        var record = CallRecord.Attach(context);
        long started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        string detail = "";
        Exception? bug = null;
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex)
        {
            var rpc = Translate(ex, context, record);
            code = rpc.StatusCode;
            detail = rpc.Status.Detail;
            bug = code == StatusCode.Internal && ex is not RpcException ? ex : null;
            throw rpc;
        }
        finally
        {
            string method = context.Method[ServicePrefix.Length..];
            string codeName = RpcErrors.CodeName(code);
            metrics.RecordRequest(method, codeName);
            double elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (code == StatusCode.OK)
            {
                logger.LogInformation(
                    "{RpcMethod} {StatusCode} in {ElapsedMs:0.###} ms: {Kind} {Shape}, {Multiplications} multiplications, queued {QueueWaitMs:0.###} ms, computed {ComputeMs:0.###} ms {Algorithm}",
                    method, codeName, elapsedMs, record.Kind, record.Shape, record.Multiplications, record.QueueWaitMs, record.ComputeMs, record.Algorithm);
            }
            else
            {
                logger.Log(
                    bug is null ? LogLevel.Information : LogLevel.Error,
                    bug,
                    "{RpcMethod} {StatusCode} in {ElapsedMs:0.###} ms: {Kind} {Shape}, {Multiplications} multiplications, queued {QueueWaitMs:0.###} ms: {StatusDetail}",
                    method, codeName, elapsedMs, record.Kind, record.Shape, record.Multiplications, record.QueueWaitMs, detail);
            }
        }
    }

    private static RpcException Translate(Exception ex, ServerCallContext context, CallRecord? record) =>
        Translate(ex, deadlinePassed: record?.ServerDeadlineExpired == true || IsPastDeadline(context), context.CancellationToken.IsCancellationRequested);

    /// <summary>The status a handler's exception becomes; anything not listed is a bug (INTERNAL, logged with the exception).</summary>
    internal static RpcException Translate(Exception ex, bool deadlinePassed, bool clientCancelled) => ex switch
    {
        RpcException rpc => rpc,
        ConvArgumentException invalid => RpcErrors.InvalidArgument(invalid.Violations),
        OperationCanceledException when deadlinePassed =>
            new RpcException(new Status(StatusCode.DeadlineExceeded, "deadline exceeded; the computation was stopped")),
        OperationCanceledException when clientCancelled =>
            new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled by the client")),
        // A large allocation the process cannot have right now (container memory, GC heap limit): the call's
        // buffers are gone with the exception and the service goes on; the client may retry or send less.
        OutOfMemoryException => RpcErrors.OverLimit(
            "the server has not enough memory for this call right now; retry later or send smaller tensors (or lower ConvService:MaxInputElements/MaxOutputElements for this container)"),
        _ => new RpcException(new Status(StatusCode.Internal, "internal error; it has been logged")),
    };

    /// <summary>
    /// The server's copy of a deadline runs later than the client's by the request's transit time, so a client
    /// that gives up at its deadline is seen cancelling just before it; that is still the deadline.
    /// </summary>
    private static bool IsPastDeadline(ServerCallContext context) =>
        context.Deadline != DateTime.MaxValue && context.Deadline - DeadlineSlack <= DateTime.UtcNow;
}
