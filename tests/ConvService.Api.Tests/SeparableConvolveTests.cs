using ConvService.Contract.V1;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

public sealed class SeparableConvolveTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    [Theory]
    [InlineData("grpc", false)]
    [InlineData("grpc", true)]
    [InlineData("rest", false)]
    [InlineData("rest", true)]
    public async Task DepthwiseSeparableMatchesReference(string transport, bool raw)
    {
        const int n = 2, c = 3, h = 8, w = 7, m = 2, kh = 3, kw = 3, cout = 5;
        var input = Tensors.Random(n * c * h * w, 11);
        var dw = Tensors.Random(c * m * kh * kw, 12);
        var pw = Tensors.Random(cout * c * m, 13);
        var dwBias = Tensors.Random(c * m, 14);
        var pwBias = Tensors.Random(cout, 15);
        var request = new SeparableConvolveRequest
        {
            Input = Tensors.Make(input, raw, n, c, h, w),
            DepthwiseSeparable = new DepthwiseSeparable
            {
                DepthwiseWeight = Tensors.Make(dw, raw, c * m, 1, kh, kw),
                PointwiseWeight = Tensors.Make(pw, !raw, cout, c * m, 1, 1),
                DepthwiseBias = Tensors.Make(dwBias, raw, c * m),
                PointwiseBias = Tensors.Make(pwBias, !raw, cout),
            },
            Options = new ConvOptions { Stride = { 2 }, Pads = { 1, 1, 1, 1 } },
        };

        var response = await CallAsync(transport, request);

        var depthwise = ReferenceConvolution.Conv2d(input, n, c, h, w, dw, c * m, kh, kw, dwBias, 2, 2, 1, 1, 1, 1, 1, 1, groups: c);
        var mid = depthwise.Values.Select(v => (float)v).ToArray();
        var expected = ReferenceConvolution.Conv2d(mid, n, c * m, depthwise.Height, depthwise.Width, pw, cout, 1, 1, pwBias);
        Assert.Equal([n, cout, expected.Height, expected.Width], response.Output.Shape);
        ReferenceConvolution.AssertClose(expected.Values, Tensors.Values(response.Output, raw));
        Assert.Equal("depthwise_separable", response.Execution.Kind);
        Assert.Equal(depthwise.Values.Length * (long)kh * kw + expected.Values.Length * (long)c * m, response.Execution.Multiplications);
    }

    [Theory]
    [InlineData("grpc", false)]
    [InlineData("grpc", true)]
    [InlineData("rest", false)]
    [InlineData("rest", true)]
    public async Task SpatiallySeparableMatchesOuterProductReference(string transport, bool raw)
    {
        const int c = 2, h = 9, w = 6;
        float[] column = [0.25f, 0.5f, -0.25f, 1f, 0.75f];
        float[] row = [1f, -2f, 0.5f];
        var input = Tensors.Random(c * h * w, 21);
        var request = new SeparableConvolveRequest
        {
            Input = Tensors.Make(input, raw, c, h, w),
            SpatiallySeparable = new SpatiallySeparable { Column = { column }, Row = { row } },
            Options = new ConvOptions { PaddingMode = PaddingMode.Same },
        };

        var response = await CallAsync(transport, request);

        var kernel = new float[c * column.Length * row.Length];
        for (int ch = 0; ch < c; ch++)
        {
            for (int i = 0; i < column.Length; i++)
            {
                for (int j = 0; j < row.Length; j++)
                {
                    kernel[(ch * column.Length + i) * row.Length + j] = column[i] * row[j];
                }
            }
        }

        // SAME, stride 1: total pad k - 1, the odd one at the bottom/right.
        var expected = ReferenceConvolution.Conv2d(input, 1, c, h, w, kernel, c, column.Length, row.Length,
            padTop: 2, padLeft: 1, padBottom: 2, padRight: 1, groups: c);
        Assert.Equal([c, h, w], response.Output.Shape);
        ReferenceConvolution.AssertClose(expected.Values, Tensors.Values(response.Output, raw));
        Assert.Equal("spatially_separable", response.Execution.Kind);
        Assert.Equal(expected.Values.Length * (long)(column.Length + row.Length), response.Execution.Multiplications);
    }

    private async Task<ConvolveResponse> CallAsync(string transport, SeparableConvolveRequest request) =>
        transport == "grpc"
            ? await factory.CreateConvolutionClient().SeparableConvolveAsync(request)
            : await (await factory.CreateClient().PostJsonAsync("/v1/separable-convolve", request)).ReadMessageAsync<ConvolveResponse>();
}
