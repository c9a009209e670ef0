using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using ConvService.Api.Admission;
using ConvService.Api.Configuration;
using ConvService.Api.Hosting;
using ConvService.Api.Mapping;
using ConvService.Api.Telemetry;
using ConvService.Compute;
using ConvService.Contract.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Grpc;

/// <summary>
/// The work behind each RPC: map and validate the request, admit it (limits, then a compute slot),
/// run the engine into the buffer the response is serialised from, and fill in the call's record.
/// </summary>
public sealed class ConvolutionHandler(
    ThreadBudgetEngines engines, ComputeAdmission admission, ConvMetrics metrics, IOptions<ConvServiceOptions> options)
{
    private const string Standard = "standard";
    private const string DepthwiseSeparableKind = "depthwise_separable";
    private const string SpatiallySeparableKind = "spatially_separable";

    /// <summary>Computes one convolution with <paramref name="engine"/> into <paramref name="output"/>; the spans are created inside, after admission.</summary>
    private delegate ExecutionResult ComputeStep(ConvolutionEngine engine, RentedBuffers buffers, Span<float> output, CancellationToken cancellationToken);

    public async Task<ConvolveResponse> ConvolveAsync(ConvolveRequest request, ServerCallContext context)
    {
        try
        {
            return await ConvolveCoreAsync(request, context);
        }
        finally
        {
            // The input's pooled raw_data arrays (gRPC) are free once the output has been computed.
            request.Payloads?.Return();
        }
    }

    public async Task<ConvolveResponse> SeparableConvolveAsync(SeparableConvolveRequest request, ServerCallContext context)
    {
        try
        {
            return await SeparableConvolveCoreAsync(request, context);
        }
        finally
        {
            request.Payloads?.Return();
        }
    }

    private async Task<ConvolveResponse> ConvolveCoreAsync(ConvolveRequest request, ServerCallContext context)
    {
        var call = CallRecord.Of(context);
        call.Kind = Standard;
        var errors = new List<FieldViolation>();
        var convOptions = ContractMapper.ToOptions(request.Options, errors);
        var input = TensorArgument.Read(request.Input, "input", errors);
        var weight = TensorArgument.Read(request.Weight, "weight", errors);
        var bias = TensorArgument.Read(request.Bias, "bias", errors);
        var g = ContractMapper.Validate(errors, () => ConvShapes.Standard(input.Shape, weight.Shape, bias.Shape, convOptions));
        call.Shape = g.ShapeSummary;
        call.Multiplications = g.Multiplications;
        admission.CheckLimits(g.Multiplications, g.InputElements, g.OutputElements);
        return await RunAsync(context, call, input.IsRaw, g.OutputShape, g.OutputElements,
            (engine, buffers, output, ct) => engine.Convolve(g, input.Values(buffers), weight.Values(buffers), bias.Values(buffers), output, ct));
    }

    private async Task<ConvolveResponse> SeparableConvolveCoreAsync(SeparableConvolveRequest request, ServerCallContext context)
    {
        var call = CallRecord.Of(context);
        var errors = new List<FieldViolation>();
        var convOptions = ContractMapper.ToOptions(request.Options, errors);
        var input = TensorArgument.Read(request.Input, "input", errors);
        switch (request.KernelCase)
        {
            case SeparableConvolveRequest.KernelOneofCase.DepthwiseSeparable:
            {
                call.Kind = DepthwiseSeparableKind;
                var kernel = request.DepthwiseSeparable;
                var dw = TensorArgument.Read(kernel.DepthwiseWeight, "depthwise_separable.depthwise_weight", errors);
                var pw = TensorArgument.Read(kernel.PointwiseWeight, "depthwise_separable.pointwise_weight", errors);
                var dwBias = TensorArgument.Read(kernel.DepthwiseBias, "depthwise_separable.depthwise_bias", errors);
                var pwBias = TensorArgument.Read(kernel.PointwiseBias, "depthwise_separable.pointwise_bias", errors);
                var g = ContractMapper.Validate(errors,
                    () => ConvShapes.DepthwiseSeparable(input.Shape, dw.Shape, pw.Shape, dwBias.Shape, pwBias.Shape, convOptions));
                call.Shape = $"{g.Depthwise.ShapeSummary} -> pointwise {g.Pointwise.OutChannels}";
                call.Multiplications = g.Multiplications;
                admission.CheckLimits(g.Multiplications, g.Depthwise.InputElements, Math.Max(g.OutputElements, g.Depthwise.OutputElements));
                return await RunAsync(context, call, input.IsRaw, g.OutputShape, g.OutputElements,
                    (engine, buffers, output, ct) => engine.DepthwiseSeparable(
                        g, input.Values(buffers), dw.Values(buffers), pw.Values(buffers), dwBias.Values(buffers), pwBias.Values(buffers), output, ct));
            }

            case SeparableConvolveRequest.KernelOneofCase.SpatiallySeparable:
            {
                call.Kind = SpatiallySeparableKind;
                var column = request.SpatiallySeparable.Column.ToArray();
                var row = request.SpatiallySeparable.Row.ToArray();
                var g = ContractMapper.Validate(errors,
                    () => ConvShapes.SpatiallySeparable(input.Shape, column.Length, row.Length, convOptions));
                call.Shape = g.Equivalent.ShapeSummary;
                call.Multiplications = g.Multiplications;
                admission.CheckLimits(g.Multiplications, g.Equivalent.InputElements, g.OutputElements);
                return await RunAsync(context, call, input.IsRaw, g.OutputShape, g.OutputElements,
                    (engine, buffers, output, ct) => engine.SpatiallySeparable(g, input.Values(buffers), column, row, output, ct));
            }

            default:
                errors.Add(new("kernel", "set one of depthwise_separable or spatially_separable"));
                throw new ConvArgumentException(errors);
        }
    }

    public static EstimateCostResponse EstimateCost(EstimateCostRequest request, ServerCallContext context)
    {
        var call = CallRecord.Of(context);
        call.Kind = "cost_estimate";
        var errors = new List<FieldViolation>();
        var convOptions = ContractMapper.ToOptions(request.Options, errors);
        long[] inputShape = [.. request.InputShape];
        int[] kernelSize = [.. request.KernelSize];
        call.Shape = $"[{string.Join(", ", inputShape)}] k[{string.Join(", ", kernelSize)}] -> {request.OutputChannels}";
        var estimate = ContractMapper.Validate(errors,
            () => CostModel.Estimate(inputShape, kernelSize, request.OutputChannels, request.DepthMultiplier, convOptions));
        call.Multiplications = estimate.Standard.Multiplications;
        return ContractMapper.ToResponse(estimate);
    }

    private async Task<ConvolveResponse> RunAsync(
        ServerCallContext context, CallRecord call, bool raw, long[] outputShape, long outputElements, ComputeStep compute)
    {
        var httpContext = context.GetHttpContext();
        if (outputElements > options.Value.MaxRestOutputElements && !httpContext.Request.IsGrpc())
        {
            throw RpcErrors.OverLimit(
                $"the output would have {outputElements} elements; REST (JSON) responses carry at most {options.Value.MaxRestOutputElements} " +
                "(ConvService:MaxRestOutputElements); call over gRPC for larger outputs");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        if (context.Deadline == DateTime.MaxValue)
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(options.Value.DefaultDeadlineSeconds));
        }

        try
        {
            using var slot = await admission.EnterAsync(call, httpContext, deadline.Token);
            // Runs here, on the request's thread (no hop); its helpers are bounded by the share of cores this computation gets.
            var engine = engines.For(admission.Running);
            return Execute(httpContext, call, raw, outputShape, outputElements, compute, engine, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            call.ServerDeadlineExpired = true;
            throw;
        }
    }

    private ConvolveResponse Execute(
        HttpContext httpContext, CallRecord call, bool raw, long[] outputShape, long outputElements, ComputeStep compute, ConvolutionEngine engine,
        CancellationToken cancellationToken)
    {
        var output = new Contract.V1.Tensor();
        output.Shape.AddRange(outputShape);
        int elements = checked((int)outputElements);
        using var buffers = new RentedBuffers();
        Span<float> target;
        byte[]? rawBuffer = null;
        if (raw)
        {
            // The response is serialised from this pooled buffer; it goes back to the pool once the response has been sent.
            int bytes = checked(elements * sizeof(float));
            rawBuffer = TensorBufferPool.Bytes.Rent(bytes);
            httpContext.Response.RegisterForDispose(new PooledBytes(rawBuffer));
            target = MemoryMarshal.Cast<byte, float>(rawBuffer.AsSpan(0, bytes));
            output.RawData = UnsafeByteOperations.UnsafeWrap(rawBuffer.AsMemory(0, bytes));
        }
        else
        {
            target = buffers.RentFloats(elements).AsSpan(0, elements);
        }

        long started = Stopwatch.GetTimestamp();
        ExecutionResult result;
        using (ConvActivitySource.StartCompute(call.Kind, call.Multiplications))
        {
            result = compute(engine, buffers, target, cancellationToken);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        metrics.RecordComputation(call.Kind, elapsed.TotalSeconds, result.Multiplications);
        call.ComputeMs = elapsed.TotalMilliseconds;
        call.Algorithm = result.Algorithm;
        if (!raw)
        {
            // JSON-friendly encoding: protobuf's repeated field owns its array, so the values are copied once into it.
            output.Data.Capacity = elements;
            foreach (float value in target)
            {
                output.Data.Add(value);
            }
        }

        return new ConvolveResponse
        {
            Output = output,
            Execution = new ExecutionInfo
            {
                Kind = call.Kind,
                Algorithm = result.Algorithm,
                Multiplications = result.Multiplications,
                ComputeMs = elapsed.TotalMilliseconds,
            },
        };
    }

    private sealed class PooledBytes(byte[] buffer) : IDisposable
    {
        public void Dispose() => TensorBufferPool.Bytes.Return(buffer);
    }
}
