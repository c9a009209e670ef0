using BenchmarkDotNet.Running;
using ConvService.Benchmarks;
using ConvService.Benchmarks.Service;

// peers: side-by-side harness against ONNX Runtime and OpenCV; bdn: BenchmarkDotNet on our kernels;
// service: end-to-end gRPC latency of a running ConvService against in-process compute.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: ConvService.Benchmarks " + HarnessOptions.Usage +
        "\n       ConvService.Benchmarks " + ServiceCommand.Usage +
        "\n       ConvService.Benchmarks " + GrpcFrameCommand.Usage +
        "\n       ConvService.Benchmarks bdn [BenchmarkDotNet args, e.g. --filter *]");
    return args.Length == 0 ? 2 : 0;
}

try
{
    return args[0] switch
    {
        "peers" => PeersCommand.Run(HarnessOptions.Parse(args[1..])),
        "service" => await ServiceCommand.RunAsync(args[1..]),
        "grpc-frame" => GrpcFrameCommand.Run(args[1..]),
        "bdn" => BenchmarkSwitcher.FromAssembly(typeof(PeersCommand).Assembly).Run(args[1..], KernelBenchmarkConfig.Create()).Any() ? 0 : 1,
        _ => throw new ArgumentException($"unknown command '{args[0]}'"),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
