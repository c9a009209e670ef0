using System.Buffers.Binary;
using Google.Protobuf;

namespace ConvService.Benchmarks.Service;

/// <summary>
/// Writes a shape's request as one length-prefixed gRPC message (the HTTP/2 request body of a unary call), so a
/// non-.NET client such as h2load can send it: e2e latency without the .NET client's share.
/// </summary>
internal static class GrpcFrameCommand
{
    public const string Usage = "grpc-frame --shape S5 --out FILE   (prints the method path to post it to)";

    public static int Run(string[] args)
    {
        string? shapeId = null, path = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--shape": shapeId = Value(); break;
                case "--out": path = Value(); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'\n{Usage}");
            }
        }

        if (shapeId is null || path is null)
        {
            throw new ArgumentException(Usage);
        }

        var shape = ShapeCatalogue.Get(shapeId);
        var request = ServiceCall.Request(shape, ShapeData.Create(shape));
        byte[] message = request.ToByteArray();
        byte[] frame = new byte[5 + message.Length];
        frame[0] = 0; // not compressed
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)message.Length);
        message.CopyTo(frame.AsSpan(5));
        File.WriteAllBytes(path, frame);
        string method = shape.Kind == ShapeKind.DepthwiseSeparable ? "SeparableConvolve" : "Convolve";
        Console.WriteLine($"/conv.v1.Convolution/{method}");
        return 0;
    }
}
