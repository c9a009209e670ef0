using ConvService.Stress.Fuzzing;
using FsCheck.Xunit;

namespace ConvService.Fuzz.Tests;

/// <summary>
/// Property against the real host in-process: every hostile request (broken shapes and payloads,
/// truncated and oversized raw_data, random protobuf bytes, random and malformed JSON) gets OK or a
/// client error with a message: INVALID_ARGUMENT / RESOURCE_EXHAUSTED, HTTP 400 / 413 / 429.
/// Never UNKNOWN, INTERNAL or 500. 1,500 cases per transport.
/// </summary>
[Properties(Arbitrary = [typeof(SeedArbitraries)], MaxTest = 1_500, QuietOnSuccess = true)]
public sealed class HostFuzzProperties(InProcessHost host) : IClassFixture<InProcessHost>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Property]
    public void GrpcAnswersOkOrClientError(FuzzSeed seed) => Expect(seed, FuzzTransport.Grpc);

    [Property]
    public void RestAnswersOkOrClientError(FuzzSeed seed) => Expect(seed, FuzzTransport.Rest);

    [Fact]
    public async Task HostStaysHealthyAfterHostileInput()
    {
        var runner = new FuzzCaseRunner(host.Channel.CreateCallInvoker(), host.Rest, Deadline);
        for (int i = 0; i < 200; i++)
        {
            var fuzzCase = new FuzzCaseGenerator(new Random(i), InProcessHost.MaxRequestBytes + 1024).Next(i % 2 == 0 ? FuzzTransport.Grpc : FuzzTransport.Rest);
            await runner.RunAsync(fuzzCase, CancellationToken.None);
        }

        using var health = await host.Rest.GetAsync("/healthz", CancellationToken.None);
        Assert.True(health.IsSuccessStatusCode);
    }

    private void Expect(FuzzSeed seed, FuzzTransport transport)
    {
        var fuzzCase = new FuzzCaseGenerator(new Random(seed.Value), InProcessHost.MaxRequestBytes + 1024).Next(transport);
        var runner = new FuzzCaseRunner(host.Channel.CreateCallInvoker(), host.Rest, Deadline);
        // FsCheck properties are synchronous; the test server's handlers do not need this thread, so blocking is safe.
        var answer = runner.RunAsync(fuzzCase, CancellationToken.None).GetAwaiter().GetResult();
        if (!answer.Acceptable)
        {
            throw new Xunit.Sdk.XunitException($"{fuzzCase.Kind} {fuzzCase.Method} ({fuzzCase.Body.Length} bytes): {answer.Outcome} {answer.Detail}");
        }
    }
}
