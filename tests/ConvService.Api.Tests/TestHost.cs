using System.Net.Http.Headers;
using System.Text;
using ConvService.Api.Hosting;
using ConvService.Contract.V1;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ConvService.Api.Tests;

/// <summary>In-process hosting helpers: a factory with configuration overrides, a gRPC client and a REST client over it.</summary>
internal static class TestHost
{
    /// <summary>A 3x3 input of ones with a 2x2 kernel of ones, as JSON: a cheap REST call whose output is [4,4,4,4].</summary>
    public const string SmallConvolveJson =
        "{\"input\":{\"shape\":[1,1,3,3],\"data\":[1,1,1,1,1,1,1,1,1]},\"weight\":{\"shape\":[1,1,2,2],\"data\":[1,1,1,1]}}";

    public static WebApplicationFactory<Program> WithSettings(this WebApplicationFactory<Program> factory, params (string Key, string Value)[] settings) =>
        factory.WithWebHostBuilder(builder =>
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        });

    /// <summary>Starts the host if needed and waits for its start-up warm-up, until which readiness is off.</summary>
    public static Task<WarmUpOutcome> WarmedUpAsync(this WebApplicationFactory<Program> factory) =>
        factory.Services.GetRequiredService<KernelWarmUp>().Completion.WaitAsync(TimeSpan.FromSeconds(60));

    public static GrpcChannel CreateChannel(this WebApplicationFactory<Program> factory) =>
        GrpcChannel.ForAddress(factory.Server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = factory.Server.CreateHandler(),
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        });

    public static Convolution.ConvolutionClient CreateConvolutionClient(this WebApplicationFactory<Program> factory) =>
        new(factory.CreateChannel());

    /// <summary>POSTs a message as canonical proto3 JSON (lowerCamelCase names, raw_data as base64).</summary>
    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, IMessage message) =>
        client.PostJsonAsync(path, JsonFormatter.Default.Format(message));

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json)
    {
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return client.PostAsync(path, content);
    }

    public static async Task<T> ReadMessageAsync<T>(this HttpResponseMessage response)
        where T : IMessage<T>, new()
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {body}");
        return JsonParser.Default.Parse<T>(body);
    }
}
