using System.Net;
using System.Text.Json;
using ConvService.Contract.V1;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

/// <summary>Every validation rule: INVALID_ARGUMENT with a BadRequest naming the field over gRPC; 400 with the message over REST.</summary>
public sealed class ValidationTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private sealed record Case(IMessage Request, string Field, string Fragment);

    private static ConvolveRequest Conv(Action<ConvolveRequest> change)
    {
        var request = new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(32, 1), false, 1, 2, 4, 4),
            Weight = Tensors.Make(Tensors.Random(54, 2), false, 3, 2, 3, 3),
        };
        change(request);
        return request;
    }

    private static SeparableConvolveRequest Separable(Action<SeparableConvolveRequest> change)
    {
        var request = new SeparableConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(32, 1), false, 2, 4, 4),
            DepthwiseSeparable = new DepthwiseSeparable
            {
                DepthwiseWeight = Tensors.Make(Tensors.Random(18, 2), false, 2, 1, 3, 3),
                PointwiseWeight = Tensors.Make(Tensors.Random(6, 3), false, 3, 2, 1, 1),
            },
        };
        change(request);
        return request;
    }

    private static EstimateCostRequest Estimate(Action<EstimateCostRequest> change)
    {
        var request = new EstimateCostRequest { InputShape = { 3, 12, 12 }, KernelSize = { 5 }, OutputChannels = 8 };
        change(request);
        return request;
    }

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["stride-three-values"] = new(Conv(r => r.Options = new ConvOptions { Stride = { 1, 2, 3 } }), "options.stride", "got 3"),
        ["stride-zero"] = new(Conv(r => r.Options = new ConvOptions { Stride = { 0 } }), "options.stride", "must be positive"),
        ["dilation-three-values"] = new(Conv(r => r.Options = new ConvOptions { Dilation = { 1, 1, 1 } }), "options.dilation", "got 3"),
        ["dilation-negative"] = new(Conv(r => r.Options = new ConvOptions { Dilation = { -1 } }), "options.dilation", "must be positive"),
        ["pads-three-values"] = new(Conv(r => r.Options = new ConvOptions { Pads = { 1, 1, 1 } }), "options.pads", "4 values"),
        ["pads-negative"] = new(Conv(r => r.Options = new ConvOptions { Pads = { -1, 0, 0, 0 } }), "options.pads", "non-negative"),
        ["pads-with-same"] = new(Conv(r => r.Options = new ConvOptions { Pads = { 1, 1, 1, 1 }, PaddingMode = PaddingMode.Same }), "options.pads", "must be empty"),
        ["padding-mode-unknown"] = new(Conv(r => r.Options = new ConvOptions { PaddingMode = (PaddingMode)7 }), "options.padding_mode", "unknown value 7"),
        ["groups-negative"] = new(Conv(r => r.Options = new ConvOptions { Groups = -2 }), "options.groups", "must be positive"),
        ["groups-not-dividing"] = new(Conv(r => r.Options = new ConvOptions { Groups = 3 }), "options.groups", "divisible by groups"),
        ["data-and-raw-data"] = new(Conv(r => r.Input.RawData = ByteString.CopyFrom(new byte[128])), "input", "not both"),
        ["raw-data-not-multiple-of-4"] = new(Conv(r => r.Input = new Tensor { Shape = { 1, 2, 4, 4 }, RawData = ByteString.CopyFrom(new byte[127]) }), "input.raw_data", "multiple of 4"),
        ["data-count-mismatch"] = new(Conv(r => r.Input.Data.RemoveAt(0)), "input.data", "has 31 values"),
        ["raw-data-count-mismatch"] = new(Conv(r => r.Weight = Tensors.Make(Tensors.Random(53, 2), true, 3, 2, 3, 3)), "weight.raw_data", "has 53 values"),
        ["input-missing"] = new(Conv(r => r.Input = null), "input.shape", "got rank 0"),
        ["input-rank-2"] = new(Conv(r => r.Input = Tensors.Make(Tensors.Random(16, 1), false, 4, 4)), "input.shape", "got rank 2"),
        ["input-negative-dimension"] = new(Conv(r => r.Input = new Tensor { Shape = { 1, 2, -4, 4 } }), "input.shape", "must be positive"),
        ["input-dimension-overflow"] = new(Conv(r => r.Input = new Tensor { Shape = { 1L << 40, 2, 4, 4 } }), "input.shape", "must not exceed"),
        ["weight-rank-3"] = new(Conv(r => r.Weight = Tensors.Make(Tensors.Random(18, 2), false, 2, 3, 3)), "weight.shape", "got rank 3"),
        ["weight-channel-mismatch"] = new(Conv(r => r.Weight = Tensors.Make(Tensors.Random(27, 2), false, 3, 1, 3, 3)), "weight.shape", "input channels / groups"),
        ["kernel-larger-than-padded-input"] = new(Conv(r => r.Weight = Tensors.Make(Tensors.Random(150, 2), false, 3, 2, 5, 5)), "weight.shape", "larger than the padded input"),
        ["bias-wrong-length"] = new(Conv(r => r.Bias = Tensors.Make([1, 2], false, 2)), "bias.shape", "must be [3]"),
        ["bias-values-without-shape"] = new(Conv(r => r.Bias = new Tensor { Data = { 1, 2, 3 } }), "bias.shape", "required when values are given"),
        ["separable-no-kernel"] = new(Separable(r => r.ClearKernel()), "kernel", "depthwise_separable or spatially_separable"),
        ["depthwise-dimension-1"] = new(Separable(r => r.DepthwiseSeparable.DepthwiseWeight = Tensors.Make(Tensors.Random(36, 2), false, 2, 2, 3, 3)),
            "depthwise_separable.depthwise_weight.shape", "must be 1"),
        ["pointwise-not-1x1"] = new(Separable(r => r.DepthwiseSeparable.PointwiseWeight = Tensors.Make(Tensors.Random(24, 2), false, 3, 2, 2, 2)),
            "depthwise_separable.pointwise_weight.shape", "1x1"),
        ["pointwise-bias-wrong-length"] = new(Separable(r => r.DepthwiseSeparable.PointwiseBias = Tensors.Make([1], false, 1)),
            "depthwise_separable.pointwise_bias.shape", "must be [3]"),
        ["spatial-empty-column"] = new(Separable(r => r.SpatiallySeparable = new SpatiallySeparable { Row = { 1, 2 } }), "spatially_separable.column", "at least one tap"),
        ["estimate-kernel-three-values"] = new(Estimate(r => r.KernelSize.Add([3, 3])), "kernel_size", "got 3"),
        ["estimate-output-channels-zero"] = new(Estimate(r => r.OutputChannels = 0), "output_channels", "got 0"),
        ["estimate-negative-depth-multiplier"] = new(Estimate(r => r.DepthMultiplier = -1), "depth_multiplier", "must be positive"),
        ["estimate-input-rank-2"] = new(Estimate(r => r.InputShape.RemoveAt(0)), "input_shape", "got rank 2"),
    };

    public static TheoryData<string> Names() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task GrpcAnswersInvalidArgumentWithBadRequest(string name)
    {
        var c = Cases[name];
        var client = factory.CreateConvolutionClient();
        var ex = await Assert.ThrowsAsync<RpcException>(() => c.Request switch
        {
            ConvolveRequest r => client.ConvolveAsync(r).ResponseAsync,
            SeparableConvolveRequest r => client.SeparableConvolveAsync(r).ResponseAsync,
            EstimateCostRequest r => (Task)client.EstimateCostAsync(r).ResponseAsync,
            _ => throw new InvalidOperationException(),
        });

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var badRequest = ex.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Contains(badRequest.FieldViolations, v => v.Field == c.Field && v.Description.Contains(c.Fragment, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task RestAnswers400WithTheMessage(string name)
    {
        var c = Cases[name];
        string path = c.Request switch
        {
            ConvolveRequest => "/v1/convolve",
            SeparableConvolveRequest => "/v1/separable-convolve",
            _ => "/v1/estimate-cost",
        };

        var response = await factory.CreateClient().PostJsonAsync(path, c.Request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, body.RootElement.GetProperty("code").GetInt32());
        string message = body.RootElement.GetProperty("message").GetString()!;
        Assert.Contains($"{c.Field}: ", message, StringComparison.Ordinal);
        Assert.Contains(c.Fragment, message, StringComparison.Ordinal);
        var violations = body.RootElement.GetProperty("details")[0].GetProperty("fieldViolations");
        Assert.Contains(violations.EnumerateArray(), v => v.GetProperty("field").GetString() == c.Field);
    }
}
