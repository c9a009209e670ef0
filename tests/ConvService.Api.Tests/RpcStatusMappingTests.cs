using ConvService.Api.Grpc;
using ConvService.Compute;
using Grpc.Core;

namespace ConvService.Api.Tests;

/// <summary>What a handler's exception becomes on the wire: only bugs are INTERNAL; running out of memory is RESOURCE_EXHAUSTED.</summary>
public sealed class RpcStatusMappingTests
{
    [Fact]
    public void OutOfMemoryIsResourceExhaustedNotInternal()
    {
        var status = RpcCallInterceptor.Translate(new OutOfMemoryException(), deadlinePassed: false, clientCancelled: false).Status;

        Assert.Equal(StatusCode.ResourceExhausted, status.StatusCode);
        Assert.Contains("not enough memory", status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false, StatusCode.DeadlineExceeded)]
    [InlineData(true, true, StatusCode.DeadlineExceeded)]
    [InlineData(false, true, StatusCode.Cancelled)]
    [InlineData(false, false, StatusCode.Internal)]
    public void CancellationIsTheDeadlineOrTheClientAndOtherwiseABug(bool deadlinePassed, bool clientCancelled, StatusCode expected)
    {
        Assert.Equal(expected, RpcCallInterceptor.Translate(new OperationCanceledException(), deadlinePassed, clientCancelled).StatusCode);
    }

    [Fact]
    public void ValidationFailuresAreInvalidArgumentAndOtherExceptionsInternal()
    {
        var invalid = new ConvArgumentException("options.groups", "must be at least 1");

        Assert.Equal(StatusCode.InvalidArgument, RpcCallInterceptor.Translate(invalid, false, false).StatusCode);
        Assert.Equal(StatusCode.Internal, RpcCallInterceptor.Translate(new InvalidOperationException("bug"), false, false).StatusCode);
        var passedThrough = new RpcException(new Status(StatusCode.Unavailable, "draining"));
        Assert.Same(passedThrough, RpcCallInterceptor.Translate(passedThrough, true, true));
    }
}
