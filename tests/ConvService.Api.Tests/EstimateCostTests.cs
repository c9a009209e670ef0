using ConvService.Contract.V1;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

public sealed class EstimateCostTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    [Theory]
    [InlineData("grpc")]
    [InlineData("rest")]
    public async Task TextbookCaseIsExact(string transport)
    {
        var request = new EstimateCostRequest { InputShape = { 3, 12, 12 }, KernelSize = { 5 }, OutputChannels = 256 };

        var response = transport == "grpc"
            ? await factory.CreateConvolutionClient().EstimateCostAsync(request)
            : await (await factory.CreateClient().PostJsonAsync("/v1/estimate-cost", request)).ReadMessageAsync<EstimateCostResponse>();

        Assert.Equal([256L, 8, 8], response.OutputShape);
        Assert.Equal(1_228_800, response.Standard.Multiplications);
        Assert.Equal(19_200, response.Standard.Parameters);
        Assert.Equal(4_800, response.Depthwise.Multiplications);
        Assert.Equal(49_152, response.Pointwise.Multiplications);
        Assert.Equal(53_952, response.Separable.Multiplications);
        Assert.Equal(843, response.Separable.Parameters);
        Assert.Equal(1_228_800.0 / 53_952, response.MultiplicationRatio, 9);
        Assert.Equal(19_200.0 / 843, response.ParameterRatio, 9);
    }

    [Fact]
    public async Task BatchStrideAndDepthMultiplierScaleTheCounts()
    {
        var request = new EstimateCostRequest
        {
            InputShape = { 2, 3, 12, 12 },
            KernelSize = { 5 },
            OutputChannels = 256,
            DepthMultiplier = 2,
            Options = new ConvOptions { Stride = { 2 }, PaddingMode = PaddingMode.Same },
        };

        var response = await factory.CreateConvolutionClient().EstimateCostAsync(request);

        Assert.Equal([2L, 256, 6, 6], response.OutputShape);
        Assert.Equal(2L * 36 * 256 * 75, response.Standard.Multiplications);
        Assert.Equal(2L * 36 * 6 * 25, response.Depthwise.Multiplications);
        Assert.Equal(2L * 36 * 256 * 6, response.Pointwise.Multiplications);
        Assert.Equal(150 + 256 * 6, response.Separable.Parameters);
    }
}
