namespace ConvService.Fuzz.Tests;

/// <summary>TestServer answers with HTTP/1.1 as the response version; the gRPC client insists on HTTP/2, so copy the request's version over.</summary>
public sealed class Http2VersionHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        response.Version = request.Version;
        return response;
    }
}
