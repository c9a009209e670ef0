using ConvService.Contract.V1;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

public sealed class ConvolveTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    /// <summary>A standard convolution case: the request and the reference answer computed independently.</summary>
    public sealed record Case(string Name, long[] InputShape, long[] WeightShape, bool Bias, ConvOptions Options,
        int StrideH, int StrideW, int DilationH, int DilationW, int[] Pads, int Groups);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["groups-stride-dilation-asymmetric-pads-bias"] = new("groups", [2, 4, 7, 9], [6, 2, 3, 3], true,
            new ConvOptions { Stride = { 2, 1 }, Dilation = { 1, 2 }, Pads = { 1, 0, 2, 1 }, Groups = 2 }, 2, 1, 1, 2, [1, 0, 2, 1], 2),
        ["chw-same-stride2"] = new("same", [3, 5, 6], [4, 3, 2, 2], false,
            new ConvOptions { Stride = { 2 }, PaddingMode = PaddingMode.Same }, 2, 2, 1, 1, SamePads(5, 6, 2, 2, 2, 2), 1),
        ["valid-1x1-defaults"] = new("valid", [1, 3, 4, 4], [5, 3, 1, 1], true,
            new ConvOptions { PaddingMode = PaddingMode.Valid }, 1, 1, 1, 1, [0, 0, 0, 0], 1),
    };

    public static TheoryData<string, string, bool> All()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var name in Cases.Keys)
        {
            foreach (var transport in new[] { "grpc", "rest" })
            {
                data.Add(name, transport, false);
                data.Add(name, transport, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task MatchesReference(string caseName, string transport, bool raw)
    {
        var c = Cases[caseName];
        int inputCount = (int)c.InputShape.Aggregate(1L, (a, b) => a * b);
        int weightCount = (int)c.WeightShape.Aggregate(1L, (a, b) => a * b);
        var input = Tensors.Random(inputCount, 1);
        var weight = Tensors.Random(weightCount, 2);
        var bias = c.Bias ? Tensors.Random((int)c.WeightShape[0], 3) : null;
        var request = new ConvolveRequest
        {
            Input = Tensors.Make(input, raw, c.InputShape),
            // Weights always go the other way round, so both encodings meet in one request.
            Weight = Tensors.Make(weight, !raw, c.WeightShape),
            Bias = bias is null ? null : Tensors.Make(bias, raw, c.WeightShape[0]),
            Options = c.Options,
        };

        var response = transport == "grpc"
            ? await factory.CreateConvolutionClient().ConvolveAsync(request)
            : await (await factory.CreateClient().PostJsonAsync("/v1/convolve", request)).ReadMessageAsync<ConvolveResponse>();

        bool rank3 = c.InputShape.Length == 3;
        int n = rank3 ? 1 : (int)c.InputShape[0];
        int ch = (int)c.InputShape[^3], h = (int)c.InputShape[^2], w = (int)c.InputShape[^1];
        var expected = ReferenceConvolution.Conv2d(input, n, ch, h, w, weight, (int)c.WeightShape[0], (int)c.WeightShape[2], (int)c.WeightShape[3],
            bias, c.StrideH, c.StrideW, c.DilationH, c.DilationW, c.Pads[0], c.Pads[1], c.Pads[2], c.Pads[3], c.Groups);
        long[] expectedShape = rank3
            ? [expected.Channels, expected.Height, expected.Width]
            : [n, expected.Channels, expected.Height, expected.Width];
        Assert.Equal(expectedShape, response.Output.Shape);
        ReferenceConvolution.AssertClose(expected.Values, Tensors.Values(response.Output, raw));
        Assert.Equal("standard", response.Execution.Kind);
        Assert.False(string.IsNullOrEmpty(response.Execution.Algorithm));
        long terms = c.WeightShape[1] * c.WeightShape[2] * c.WeightShape[3];
        Assert.Equal(expected.Values.Length * terms, response.Execution.Multiplications);
        Assert.True(response.Execution.ComputeMs >= 0);
    }

    [Fact]
    public async Task RestAcceptsProtoFieldNames()
    {
        const string json = """
            {"input": {"shape": [1, 3, 3], "data": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
             "weight": {"shape": [1, 1, 2, 2], "data": [1, 0, 0, 1]},
             "bias": {"shape": [1], "data": [0.5]},
             "options": {"padding_mode": "PADDING_MODE_VALID"}}
            """;
        var response = await (await factory.CreateClient().PostJsonAsync("/v1/convolve", json)).ReadMessageAsync<ConvolveResponse>();
        Assert.Equal([1L, 2, 2], response.Output.Shape);
        Assert.Equal([6.5f, 8.5f, 12.5f, 14.5f], response.Output.Data);
    }

    /// <summary>TensorFlow's SAME rule, written out for the reference: [top, left, bottom, right].</summary>
    private static int[] SamePads(int h, int w, int kh, int kw, int sh, int sw)
    {
        int oh = (h + sh - 1) / sh, ow = (w + sw - 1) / sw;
        int totalH = Math.Max(0, (oh - 1) * sh + kh - h), totalW = Math.Max(0, (ow - 1) * sw + kw - w);
        return [totalH / 2, totalW / 2, totalH - totalH / 2, totalW - totalW / 2];
    }
}
