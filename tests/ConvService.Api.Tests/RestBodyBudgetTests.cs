using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ConvService.Api.Admission;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests;

/// <summary>
/// ConvService:MaxRestBytesInFlight: JSON bodies are parsed before compute admission, so their bytes in flight are
/// bounded separately; over the budget a call gets 429 with Retry-After at once, and the budget is given back.
/// </summary>
public sealed class RestBodyBudgetTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private const string Body = TestHost.SmallConvolveJson;

    [Fact]
    public void ABodyFitsWhenItIsAloneOrWithinWhatIsLeft()
    {
        var budget = new RestBodyBudget(100);
        Assert.True(budget.TryReserve(250)); // alone: larger than the budget still goes through
        Assert.False(budget.TryReserve(1));
        budget.Release(250);
        Assert.True(budget.TryReserve(60));
        Assert.True(budget.TryReserve(40));
        Assert.False(budget.TryReserve(1));
        Assert.Equal(100, budget.InFlightBytes);
        budget.Release(60);
        budget.Release(40);
        Assert.Equal(0, budget.InFlightBytes);
    }

    [Fact]
    public async Task ABodyOverTheBudgetWhileAnotherIsInFlightIs429WithRetryAfterAndTheBudgetIsGivenBack()
    {
        using var host = factory.WithSettings(("ConvService:MaxRestBytesInFlight", "150"));
        // TestServer's own client: the factory's default client buffers request content (for redirects) before sending.
        using var client = host.Server.CreateClient();
        var budget = host.Services.GetRequiredService<RestBodyBudget>();

        // The first call's body arrives slowly, so it holds its bytes of the budget until released.
        var held = new HeldBackContent(Body);
        var first = client.PostAsync("/v1/convolve", held);
        await held.HalfSent.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (budget.InFlightBytes == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10); // the host sees the headers a moment after the client started sending
        }

        Assert.Equal(Encoding.UTF8.GetByteCount(Body), budget.InFlightBytes);

        var refused = await client.PostJsonAsync("/v1/convolve", Body);
        string message = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("ConvService:MaxRestBytesInFlight", message, StringComparison.Ordinal);
        Assert.Contains("\"code\":8", message.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);

        held.Release.SetResult();
        var served = await first;
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(0, budget.InFlightBytes);

        var retried = await client.PostJsonAsync("/v1/convolve", Body);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(0, budget.InFlightBytes);
    }

    [Fact]
    public async Task RefusedAndFailedBodiesGiveTheirBytesBack()
    {
        using var host = factory.WithSettings(("ConvService:MaxRestBytesInFlight", "150"));
        using var client = host.CreateClient();
        var budget = host.Services.GetRequiredService<RestBodyBudget>();

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync("/v1/convolve", "{\"input\":")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJsonAsync("/v1/convolve", "{\"input\":{\"shape\":[1,1,3,3]}}")).StatusCode);
        Assert.Equal(0, budget.InFlightBytes);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/convolve", Body)).StatusCode);
    }

    /// <summary>Sends the first half of a JSON body, then waits for <see cref="Release"/> before the rest.</summary>
    private sealed class HeldBackContent(string json) : HttpContent
    {
        private readonly byte[] bytes = Encoding.UTF8.GetBytes(json);

        public TaskCompletionSource HalfSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            int half = bytes.Length / 2;
            await stream.WriteAsync(bytes.AsMemory(0, half));
            await stream.FlushAsync();
            HalfSent.SetResult();
            await Release.Task;
            await stream.WriteAsync(bytes.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return true;
        }
    }
}
