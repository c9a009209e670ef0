using ConvService.Contract.V1;
using Grpc.Core;

namespace ConvService.Api.Grpc;

/// <summary>The conv.v1.Convolution service (gRPC and, through JSON transcoding, REST). Each RPC delegates to <see cref="ConvolutionHandler"/>.</summary>
[BindServiceMethod(typeof(ConvolutionServiceBinder), nameof(ConvolutionServiceBinder.BindService))]
public sealed class ConvolutionService(ConvolutionHandler handler) : Convolution.ConvolutionBase
{
    public override Task<ConvolveResponse> Convolve(ConvolveRequest request, ServerCallContext context) =>
        handler.ConvolveAsync(request, context);

    public override Task<ConvolveResponse> SeparableConvolve(SeparableConvolveRequest request, ServerCallContext context) =>
        handler.SeparableConvolveAsync(request, context);

    public override Task<EstimateCostResponse> EstimateCost(EstimateCostRequest request, ServerCallContext context) =>
        Task.FromResult(ConvolutionHandler.EstimateCost(request, context));
}
