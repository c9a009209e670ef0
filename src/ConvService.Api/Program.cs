using ConvService.Compute;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddGrpc();
builder.Services.AddSingleton<ConvolutionEngine>();
var app = builder.Build();
app.MapGet("/healthz", () => "ok");
app.Run();

/// <summary>Entry point; public so WebApplicationFactory can host it in tests.</summary>
public partial class Program;
