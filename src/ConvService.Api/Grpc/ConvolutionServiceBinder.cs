using ConvService.Api.Mapping;
using ConvService.Contract.V1;
using Grpc.Core;

namespace ConvService.Api.Grpc;

/// <summary>
/// Binds <see cref="ConvolutionService"/> like the generated code does, but with request marshallers
/// that answer INVALID_ARGUMENT for a body that is not a valid message. grpc-dotnet parses the request
/// before any interceptor runs and would otherwise answer UNKNOWN ("Exception was thrown by handler").
/// The two tensor-carrying requests are parsed by <see cref="PooledRequestReader"/> (raw_data into pooled arrays).
/// Found by grpc-dotnet and JSON transcoding through <see cref="BindServiceMethodAttribute"/> on the service.
/// </summary>
public static class ConvolutionServiceBinder
{
    /// <summary>JSON transcoding reads the service descriptor from this property of the bind method's type.</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => Convolution.Descriptor;

    public static void BindService(ServiceBinderBase serviceBinder, Convolution.ConvolutionBase serviceImpl) =>
        Convolution.BindService(new ParseFailureBinder(serviceBinder), serviceImpl);

    /// <summary>Forwards every method to the real binder with its request deserializer wrapped.</summary>
    private sealed class ParseFailureBinder(ServiceBinderBase inner) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Wrap(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Wrap(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Wrap(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Wrap(method), handler);

        private static Method<TRequest, TResponse> Wrap<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class
        {
            var original = method.RequestMarshaller;
            var deserializer = PooledDeserializer<TRequest>() ?? original.ContextualDeserializer;
            var marshaller = new Marshaller<TRequest>(
                original.ContextualSerializer,
                context =>
                {
                    try
                    {
                        return deserializer(context);
                    }
                    catch (Exception ex) when (ex is not RpcException)
                    {
                        throw new RpcException(new Status(
                            StatusCode.InvalidArgument, $"the request body is not a valid {typeof(TRequest).Name} message: {ex.Message}"));
                    }
                });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
        }

        /// <summary>The requests that carry tensors are parsed with their raw_data in pooled arrays (<see cref="PooledRequestReader"/>).</summary>
        private static Func<DeserializationContext, TRequest>? PooledDeserializer<TRequest>()
            where TRequest : class
        {
            if (typeof(TRequest) == typeof(ConvolveRequest))
            {
                return context => (TRequest)(object)PooledRequestReader.ReadConvolveRequest(context.PayloadAsReadOnlySequence());
            }

            if (typeof(TRequest) == typeof(SeparableConvolveRequest))
            {
                return context => (TRequest)(object)PooledRequestReader.ReadSeparableConvolveRequest(context.PayloadAsReadOnlySequence());
            }

            return null;
        }
    }
}
