using ConvService.Contract.V1;
using Grpc.Net.Client;

namespace ConvService.Stress;

/// <summary>A gRPC channel and a REST HttpClient to one running service, sized for many concurrent calls.</summary>
public sealed class ServiceClients : IDisposable
{
    public ServiceClients(Uri grpcUrl, Uri restUrl)
    {
        GrpcUrl = grpcUrl;
        Channel = CreateChannel(grpcUrl);
        Grpc = new Convolution.ConvolutionClient(Channel);
        Rest = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = restUrl,
            Timeout = Timeout.InfiniteTimeSpan, // every call carries its own cancellation deadline
        };
        Metrics = new MetricsScraper(Rest);
    }

    public Uri GrpcUrl { get; }
    public GrpcChannel Channel { get; }
    public Convolution.ConvolutionClient Grpc { get; }
    public HttpClient Rest { get; }
    public MetricsScraper Metrics { get; }

    /// <summary>A channel of its own (the fault clients dispose theirs mid-call to simulate a disconnect).</summary>
    public static GrpcChannel CreateChannel(Uri grpcUrl) => GrpcChannel.ForAddress(grpcUrl, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = 256 * 1024 * 1024,
        MaxSendMessageSize = 256 * 1024 * 1024,
        MaxRetryAttempts = 0,
        HttpHandler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        },
        DisposeHttpClient = true,
    });

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await Rest.GetAsync("/healthz", timeout.Token);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        Channel.Dispose();
        Rest.Dispose();
    }
}
