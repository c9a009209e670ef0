using System.Security.Cryptography;
using System.Text;
using ConvService.Api.Configuration;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Grpc;

/// <summary>
/// Optional API-key check for the Convolution service (gRPC and REST alike): <c>authorization: Bearer &lt;key&gt;</c>
/// must name one of ConvService:ApiKeys. Off when the list is empty. Health, reflection and /metrics are not behind it.
/// </summary>
public sealed class ApiKeyInterceptor(IOptionsMonitor<ConvServiceOptions> options) : Interceptor
{
    private const string Scheme = "Bearer ";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var keys = options.CurrentValue.ApiKeys;
        if (keys.Count > 0 && !IsAuthorized(context.RequestHeaders.GetValue("authorization"), keys))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "missing or unknown API key: send 'authorization: Bearer <key>'"));
        }

        return continuation(request, context);
    }

    private static bool IsAuthorized(string? header, List<string> keys)
    {
        if (header is null || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var presented = Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim());
        bool match = false;
        foreach (var key in keys)
        {
            // Fixed-time comparison of every key, so timing does not reveal which key or how much of it matched.
            match |= key.Length > 0 && CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(key));
        }

        return match;
    }
}
