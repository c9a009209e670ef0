using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using ConvService.Contract.V1;
using Google.Protobuf;
using Grpc.Net.Client;

namespace ConvService.Benchmarks.Service;

/// <summary>
/// End-to-end latency of a running ConvService over gRPC (raw_data tensors, one unary call at a
/// time) next to the same computation in process, prepared and one-shot. Server overhead is
/// (e2e - compute_ms) / compute_ms, with compute_ms as the server reports it in ExecutionInfo.
/// </summary>
internal static class ServiceCommand
{
    public const string Usage = "service [--grpc http://localhost:8081] [--shapes S1,S5] [--threads 1] [--max-seconds 3]";

    public static async Task<int> RunAsync(string[] args)
    {
        string address = "http://localhost:8081";
        IReadOnlyList<BenchShape> shapes = [ShapeCatalogue.Get("S1"), ShapeCatalogue.Get("S5")];
        int threads = 1;
        var box = TimeBox.Full;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--grpc": address = Value(); break;
                case "--shapes": shapes = Value().Split(',').Select(ShapeCatalogue.Get).ToArray(); break;
                case "--threads": threads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--max-seconds": box = box with { MaxSeconds = double.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'\n{Usage}");
            }
        }

        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            // The largest window .NET allows (16 MB), so megabyte tensors are not paced by flow control on loopback.
            HttpHandler = new SocketsHttpHandler { InitialHttp2StreamWindowSize = 16 << 20, EnableMultipleHttp2Connections = true },
            DisposeHttpClient = true,
        });
        var client = new Convolution.ConvolutionClient(channel);
        Console.WriteLine($"ConvService over gRPC at {address}; in-process compute with {threads} thread(s); {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"{"shape",-6} {"e2e ms",10} {"server compute ms",18} {"overhead %",11} {"in-proc prepared ms",20} {"in-proc one-shot ms",20} {"max|diff|",10}  algorithm");
        bool allAgree = true;
        foreach (var shape in shapes)
        {
            var data = ShapeData.Create(shape);
            double prepared, oneShot;
            float[] reference;
            using (var ours = new ConvServiceRunner(shape, data, threads, OurVariant.Prepared))
            {
                prepared = Sampler.Measure(ours.Run, box).MedianMs;
                reference = ours.Output();
            }

            using (var ours = new ConvServiceRunner(shape, data, threads, OurVariant.OneShot))
            {
                oneShot = Sampler.Measure(ours.Run, box).MedianMs;
            }

            var call = Call(client, shape, data);
            var first = await call();
            double diff = MaxAbsDiff(reference, first.Output.RawData.Span);
            double tolerance = PeersCommand.RelativeTolerance * reference.Max(v => Math.Abs(v));
            allAgree &= diff <= tolerance;

            var (e2e, compute) = await MeasureAsync(call, box);
            double overhead = 100 * (e2e - compute) / compute;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{shape.Id,-6} {e2e,10:F4} {compute,18:F4} {overhead,11:F1} {prepared,20:F4} {oneShot,20:F4} {diff,10:G3}  {first.Execution?.Algorithm}"));
        }

        if (!allAgree)
        {
            Console.Error.WriteLine("FAIL: the service's output differs from the in-process output beyond tolerance");
        }

        return allAgree ? 0 : 1;
    }

    /// <summary>One request per shape, built once; each call sends it and waits for the response.</summary>
    private static Func<Task<ConvolveResponse>> Call(Convolution.ConvolutionClient client, BenchShape shape, ShapeData data)
    {
        var input = Tensor(shape.InputShape, data.Input);
        if (shape.Kind == ShapeKind.DepthwiseSeparable)
        {
            var request = new SeparableConvolveRequest
            {
                Input = input,
                Options = Options(shape),
                DepthwiseSeparable = new DepthwiseSeparable
                {
                    DepthwiseWeight = Tensor(shape.WeightShape, data.Weight),
                    PointwiseWeight = Tensor(shape.PointwiseWeightShape, data.PointwiseWeight),
                    DepthwiseBias = data.Bias.Length > 0 ? Tensor([data.Bias.Length], data.Bias) : null,
                    PointwiseBias = data.PointwiseBias.Length > 0 ? Tensor([data.PointwiseBias.Length], data.PointwiseBias) : null,
                },
            };
            return async () => await client.SeparableConvolveAsync(request);
        }

        var convolve = new ConvolveRequest
        {
            Input = input,
            Weight = Tensor(shape.WeightShape, data.Weight),
            Bias = data.Bias.Length > 0 ? Tensor([data.Bias.Length], data.Bias) : null,
            Options = Options(shape),
        };
        convolve.Options.Groups = shape.Options.Groups;
        return async () => await client.ConvolveAsync(convolve);
    }

    private static ConvOptions Options(BenchShape shape)
    {
        var o = shape.Options;
        var options = new ConvOptions
        {
            Stride = { o.StrideH, o.StrideW },
            Dilation = { o.DilationH, o.DilationW },
            PaddingMode = (PaddingMode)(int)o.Padding,
        };

        // Pads only go with explicit padding; SAME and VALID must leave them empty.
        if (o.Padding == Compute.PaddingMode.Explicit)
        {
            options.Pads.Add([o.PadTop, o.PadLeft, o.PadBottom, o.PadRight]);
        }

        return options;
    }

    private static Tensor Tensor(long[] shape, float[] values) => new()
    {
        Shape = { shape },
        RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),
    };

    /// <summary>Median end-to-end ms and median server-reported compute ms over the time box.</summary>
    private static async Task<(double E2e, double Compute)> MeasureAsync(Func<Task<ConvolveResponse>> call, TimeBox box)
    {
        long warmupEnd = Stopwatch.GetTimestamp() + (long)(box.WarmupSeconds * Stopwatch.Frequency);
        for (int i = 0; i < box.WarmupRuns || Stopwatch.GetTimestamp() < warmupEnd; i++)
        {
            await call();
        }

        var e2e = new List<double>();
        var compute = new List<double>();
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            var response = await call();
            long t1 = Stopwatch.GetTimestamp();
            e2e.Add((t1 - t0) * 1000.0 / Stopwatch.Frequency);
            compute.Add(response.Execution?.ComputeMs ?? double.NaN);
            double elapsed = (t1 - start) / (double)Stopwatch.Frequency;
            if ((e2e.Count >= box.MinRuns && elapsed >= box.MinSeconds) || (elapsed >= box.MaxSeconds && e2e.Count >= 3))
            {
                break;
            }
        }

        return (Sampler.Median(CollectionsMarshal.AsSpan(e2e)), Sampler.Median(CollectionsMarshal.AsSpan(compute)));
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
