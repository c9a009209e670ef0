using ConvService.Api.Admission;
using ConvService.Api.Configuration;
using ConvService.Api.Grpc;
using ConvService.Compute;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;

namespace ConvService.Api.Hosting;

/// <summary>The Convolution service itself: options, engine, admission, gRPC with JSON transcoding, reflection and interceptors.</summary>
public static class ServiceSetup
{
    public static WebApplicationBuilder AddConvService(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ConvServiceOptions>()
            .BindConfiguration(ConvServiceOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // One engine per intra-request thread budget (P / running computations), over all processors.
        builder.Services.AddSingleton(_ => new ThreadBudgetEngines(Environment.ProcessorCount));
        builder.Services.AddSingleton<ComputeAdmission>();
        builder.Services.AddSingleton(sp => new RestBodyBudget(sp.GetRequiredService<IOptions<ConvServiceOptions>>().Value.MaxRestBytesInFlight));
        builder.Services.AddSingleton<RequestActivity>();
        builder.Services.AddSingleton<IdleMemoryTrimmer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IdleMemoryTrimmer>());
        builder.Services.AddSingleton(KernelWarmUpCases.Default);
        builder.Services.AddSingleton<KernelWarmUp>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KernelWarmUp>());
        builder.Services.AddSingleton<ConvolutionHandler>();
        builder.Services
            .AddGrpc(grpc =>
            {
                grpc.Interceptors.Add<RpcCallInterceptor>();
                // Outputs are bounded by MaxOutputElements, not by gRPC's default 4 MB send limit.
                grpc.MaxSendMessageSize = null;
            })
            .AddJsonTranscoding(transcoding =>
            {
                // REST error bodies carry the google.rpc.BadRequest details, so the JSON writer must know the type.
                transcoding.TypeRegistry = TypeRegistry.FromMessages(BadRequest.Descriptor);
                // Canonical proto3 JSON: fields at their default are left out (e.g. no empty "rawData" next to "data").
                transcoding.JsonSettings.IgnoreDefaultValues = true;
            })
            .AddServiceOptions<ConvolutionService>(service => service.Interceptors.Add<ApiKeyInterceptor>());
        builder.Services.AddOptions<GrpcServiceOptions>()
            .Configure<IOptions<ConvServiceOptions>>((grpc, conv) => grpc.MaxReceiveMessageSize = conv.Value.MaxRequestBytes);
        builder.Services.AddGrpcReflection();
        return builder;
    }

    public static WebApplication MapConvService(this WebApplication app)
    {
        var activity = app.Services.GetRequiredService<RequestActivity>();
        app.Use(activity.TrackAsync);
        app.UseMiddleware<RefusedCallMiddleware>();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        app.MapGrpcService<ConvolutionService>();
        app.MapGrpcReflectionService();
        return app;
    }
}
