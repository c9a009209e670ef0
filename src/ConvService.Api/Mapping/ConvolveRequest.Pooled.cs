using ConvService.Api.Mapping;

namespace ConvService.Contract.V1;

/// <summary>Set when <see cref="PooledRequestReader"/> parsed the request (gRPC); null for requests built otherwise (JSON transcoding, tests).</summary>
public sealed partial class ConvolveRequest
{
    internal PooledPayloads? Payloads { get; set; }
}
