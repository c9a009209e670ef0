using System.Globalization;
using System.Runtime.InteropServices;
using ConvService.Contract.V1;
using Google.Protobuf;
using Grpc.Net.Client;

namespace ConvService.Benchmarks.Service;

/// <summary>
/// End-to-end latency of running ConvService instances over gRPC (raw_data tensors, one unary call at a
/// time) next to the same computation in process, prepared and one-shot. Server overhead is
/// (e2e - compute_ms) / compute_ms, with compute_ms as the server reports it in ExecutionInfo. Several
/// --grpc addresses are measured in interleaved rounds (A/B of two builds or configurations under the same load).
/// </summary>
internal static class ServiceCommand
{
    public const string Usage =
        "service [--grpc http://localhost:8081[,http://host:port...]] [--shapes S1,S5] [--threads 1] [--max-seconds 3] [--rounds 10] [--window BYTES[,BYTES...]] [--no-in-process]";

    /// <summary>The harness's client receive window: the largest .NET allows (16 MB), so megabyte responses are not paced by flow control.</summary>
    public const int DefaultClientWindow = 16 << 20;

    public static async Task<int> RunAsync(string[] args)
    {
        string[] addresses = ["http://localhost:8081"];
        IReadOnlyList<BenchShape> shapes = [ShapeCatalogue.Get("S1"), ShapeCatalogue.Get("S5")];
        int threads = 1, rounds = 10;
        int[] windows = [DefaultClientWindow];
        bool inProcess = true;
        var box = TimeBox.Full;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--grpc": addresses = Value().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--shapes": shapes = Value().Split(',').Select(ShapeCatalogue.Get).ToArray(); break;
                case "--threads": threads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--max-seconds": box = box with { MaxSeconds = double.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--rounds": rounds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--window": windows = Value().Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--no-in-process": inProcess = false; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'\n{Usage}");
            }
        }

        if (windows.Length != 1 && windows.Length != addresses.Length)
        {
            throw new ArgumentException("--window takes one value, or one per --grpc address");
        }

        // One client per address, each with its window: the same address twice with two windows compares client settings.
        int WindowOf(int s) => windows[windows.Length == 1 ? 0 : s];
        var channels = addresses.Select((address, s) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            // 0 keeps .NET's default (64 KB), to show what an untuned client sees.
            HttpHandler = WindowOf(s) > 0
                ? new SocketsHttpHandler { InitialHttp2StreamWindowSize = WindowOf(s), EnableMultipleHttp2Connections = true }
                : new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            DisposeHttpClient = true,
        })).ToArray();
        try
        {
            var clients = channels.Select(channel => new Convolution.ConvolutionClient(channel)).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ConvService over gRPC at {string.Join(", ", addresses)}; client stream window {string.Join(", ", windows.Select(w => w > 0 ? w.ToString(CultureInfo.InvariantCulture) : ".NET default"))} bytes; " +
                $"in-process compute with {threads} thread(s); {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
            Console.WriteLine("overhead % = (median e2e - median compute) / median compute; paired ms = median over calls of (e2e - that call's compute_ms)");
            Console.WriteLine($"{"shape",-6} {"server [client window]",-34} {"calls",6} {"e2e ms",9} {"p90 ms",9} {"compute ms",11} {"overhead %",11} {"paired ms",10} {"in-proc prep ms",16} {"one-shot ms",12} {"client ser+parse ms",20} {"max|diff|",10}  algorithm");
            bool allAgree = true;
            foreach (var shape in shapes)
            {
                var data = ShapeData.Create(shape);
                double prepared = double.NaN, oneShot = double.NaN;
                float[] reference;
                using (var ours = new ConvServiceRunner(shape, data, threads, OurVariant.Prepared))
                {
                    if (inProcess)
                    {
                        prepared = Sampler.Measure(ours.Run, box).MedianMs;
                    }
                    else
                    {
                        ours.Run();
                    }

                    reference = ours.Output();
                }

                if (inProcess)
                {
                    using var ours = new ConvServiceRunner(shape, data, threads, OurVariant.OneShot);
                    oneShot = Sampler.Measure(ours.Run, box).MedianMs;
                }

                var calls = clients.Select(client => ServiceCall.For(client, shape, data)).ToArray();
                var firsts = new ConvolveResponse[calls.Length];
                for (int s = 0; s < calls.Length; s++)
                {
                    firsts[s] = await calls[s]();
                    double diff = MaxAbsDiff(reference, firsts[s].Output.RawData.Span);
                    double tolerance = PeersCommand.RelativeTolerance * reference.Max(v => Math.Abs(v));
                    if (diff > tolerance)
                    {
                        allAgree = false;
                        Console.Error.WriteLine($"{shape.Id} at {addresses[s]}: max |diff| {diff:G3} over tolerance {tolerance:G3}");
                    }
                }

                double clientMs = inProcess ? ClientCodecMs(ServiceCall.Request(shape, data), firsts[0], box) : double.NaN;
                var samples = await ServiceSamples.MeasureInterleavedAsync(calls, box, rounds);
                for (int s = 0; s < calls.Length; s++)
                {
                    var m = samples[s];
                    double overhead = 100 * (m.E2eMs - m.ComputeMs) / m.ComputeMs;
                    double diff = MaxAbsDiff(reference, firsts[s].Output.RawData.Span);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{shape.Id,-6} {$"{addresses[s]} [{(WindowOf(s) > 0 ? WindowOf(s) : "default")}]",-34} {m.Calls,6} {m.E2eMs,9:F4} {m.E2eP90Ms,9:F4} {m.ComputeMs,11:F4} {overhead,11:F1} {m.PairedOverheadMs,10:F4} {prepared,16:F4} {oneShot,12:F4} {clientMs,20:F4} {diff,10:G3}  {firsts[s].Execution?.Algorithm}"));
                }
            }

            if (!allAgree)
            {
                Console.Error.WriteLine("FAIL: the service's output differs from the in-process output beyond tolerance");
            }

            return allAgree ? 0 : 1;
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    /// <summary>
    /// The client's own protobuf work per call, in process: serialising the request into a reused buffer and parsing a
    /// response (a new array for raw_data, as the generated client does). Part of e2e, not of the server.
    /// </summary>
    private static double ClientCodecMs(IMessage request, ConvolveResponse response, TimeBox box)
    {
        byte[] requestBytes = new byte[request.CalculateSize()];
        byte[] responseBytes = response.ToByteArray();
        return Sampler.Measure(() =>
        {
            request.WriteTo(requestBytes.AsSpan());
            ConvolveResponse.Parser.ParseFrom(responseBytes);
        }, box).MedianMs;
    }

    private static double MaxAbsDiff(float[] expected, ReadOnlySpan<byte> raw)
    {
        var actual = MemoryMarshal.Cast<byte, float>(raw);
        if (actual.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            max = Math.Max(max, Math.Abs((double)expected[i] - actual[i]));
        }

        return double.IsNaN(max) ? double.PositiveInfinity : max;
    }
}
