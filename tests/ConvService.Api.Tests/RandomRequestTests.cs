using System.Net;
using ConvService.Contract.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConvService.Api.Tests;

/// <summary>
/// Seeded random and mutated requests (odd shapes, options and encodings; random bytes): every answer is OK
/// or a client-error status with a message, never UNKNOWN/INTERNAL, over gRPC and REST.
/// </summary>
public sealed class RandomRequestTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>
{
    private static readonly StatusCode[] ClientErrors = [StatusCode.OK, StatusCode.InvalidArgument, StatusCode.ResourceExhausted];

    private WebApplicationFactory<Program> Limited() => factory.WithSettings(("ConvService:MaxMultiplications", "2000000"));

    [Fact]
    public async Task RandomRequestsGetOkOrAClientError()
    {
        using var host = Limited();
        var client = host.CreateConvolutionClient();
        var rest = host.CreateClient();
        var random = new Random(20261125);
        var seen = new Dictionary<StatusCode, int>();
        for (int i = 0; i < 300; i++)
        {
            // Half the cases start from a valid request and get one or two mutations; the rest are built at random.
            IMessage request = (i % 6) switch
            {
                0 or 1 => MutateConvolve(ValidConvolve(random), random),
                2 => new ConvolveRequest { Input = RandomTensor(random), Weight = RandomTensor(random), Bias = random.Next(3) == 0 ? RandomTensor(random) : null, Options = RandomOptions(random) },
                3 => random.Next(2) == 0 ? ValidSeparable(random) : RandomSeparable(random),
                _ => new EstimateCostRequest
                {
                    InputShape = { RandomShape(random) },
                    KernelSize = { Enumerable.Range(0, random.Next(4)).Select(_ => Pick(random, -1, 0, 1, 3, 7, int.MaxValue)) },
                    OutputChannels = Pick(random, -5L, 0, 1, 16, 1L << 40),
                    DepthMultiplier = Pick(random, -1, 0, 1, 2, int.MaxValue),
                    Options = RandomOptions(random),
                },
            };

            var status = await CallGrpcAsync(client, request);
            Assert.True(ClientErrors.Contains(status.StatusCode), $"case {i}: {status.StatusCode} {status.Detail} for {request}");
            Assert.True(status.StatusCode == StatusCode.OK || status.Detail.Length > 0, $"case {i}: no message");
            seen[status.StatusCode] = seen.GetValueOrDefault(status.StatusCode) + 1;

            if (i % 5 == 0)
            {
                string path = request switch { ConvolveRequest => "/v1/convolve", SeparableConvolveRequest => "/v1/separable-convolve", _ => "/v1/estimate-cost" };
                var response = await rest.PostJsonAsync(path, request);
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.TooManyRequests,
                    $"case {i}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        // The generator reaches both sides of the validation, not only refusals.
        Assert.True(seen.GetValueOrDefault(StatusCode.OK) >= 10, string.Join(", ", seen));
        Assert.True(seen.GetValueOrDefault(StatusCode.InvalidArgument) >= 100, string.Join(", ", seen));
    }

    [Fact]
    public async Task RandomBytesAndTruncatedMessagesAreNeverUnknown()
    {
        using var host = Limited();
        var invoker = host.CreateChannel().CreateCallInvoker();
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var random = new Random(7);
        var valid = new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(48, 1), true, 1, 3, 4, 4),
            Weight = Tensors.Make(Tensors.Random(54, 2), false, 2, 3, 3, 3),
        }.ToByteArray();
        foreach (var name in new[] { "Convolve", "SeparableConvolve", "EstimateCost" })
        {
            var method = new Method<byte[], byte[]>(MethodType.Unary, "conv.v1.Convolution", name, bytes, bytes);
            for (int i = 0; i < 60; i++)
            {
                byte[] body = i % 2 == 0 ? RandomBytes(random) : valid[..random.Next(valid.Length)];
                var status = await CallAsync(() => invoker.AsyncUnaryCall(method, null, new CallOptions(), body).ResponseAsync);
                Assert.True(ClientErrors.Contains(status.StatusCode), $"{name} case {i}: {status.StatusCode} {status.Detail}");
            }
        }
    }

    private static async Task<Status> CallGrpcAsync(Convolution.ConvolutionClient client, IMessage request) => request switch
    {
        ConvolveRequest r => await CallAsync(() => client.ConvolveAsync(r).ResponseAsync),
        SeparableConvolveRequest r => await CallAsync(() => client.SeparableConvolveAsync(r).ResponseAsync),
        EstimateCostRequest r => await CallAsync(() => client.EstimateCostAsync(r).ResponseAsync),
        _ => throw new InvalidOperationException(),
    };

    private static async Task<Status> CallAsync(Func<Task> call)
    {
        try
        {
            await call();
            return Status.DefaultSuccess;
        }
        catch (RpcException ex)
        {
            return ex.Status;
        }
    }

    private static ConvolveRequest ValidConvolve(Random random)
    {
        int groups = Pick(random, 1, 1, 2);
        int n = random.Next(1, 3), c = groups * random.Next(1, 3), h = random.Next(3, 9), w = random.Next(3, 9);
        int cout = groups * random.Next(1, 3), kh = random.Next(1, 4), kw = random.Next(1, 4);
        bool raw = random.Next(2) == 0;
        var request = new ConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(n * c * h * w, random.Next()), raw, n, c, h, w),
            Weight = Tensors.Make(Tensors.Random(cout * (c / groups) * kh * kw, random.Next()), !raw, cout, c / groups, kh, kw),
            Options = new ConvOptions { Stride = { random.Next(1, 3) }, Groups = groups, PaddingMode = Pick(random, PaddingMode.Unspecified, PaddingMode.Same) },
        };
        if (request.Options.PaddingMode == PaddingMode.Unspecified)
        {
            request.Options.Pads.AddRange([random.Next(2), random.Next(2), random.Next(2), random.Next(2)]);
        }

        if (random.Next(2) == 0)
        {
            request.Bias = Tensors.Make(Tensors.Random(cout, random.Next()), raw, cout);
        }

        return request;
    }

    private static ConvolveRequest MutateConvolve(ConvolveRequest request, Random random)
    {
        int mutations = random.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            switch (random.Next(8))
            {
                case 0:
                    request.Input.Shape[random.Next(request.Input.Shape.Count)] = Pick(random, 0L, -1, 7, 1L << 31, long.MinValue);
                    break;
                case 1:
                    request.Weight.Shape[random.Next(request.Weight.Shape.Count)] += Pick(random, -1, 1, 100);
                    break;
                case 2:
                    request.Input.RawData = request.Input.RawData.IsEmpty ? ByteString.CopyFrom(new byte[8]) : ByteString.CopyFrom(request.Input.RawData.Span[..^random.Next(1, 4)]);
                    break;
                case 3:
                    request.Options.Pads.Add(Pick(random, 0, -1, int.MaxValue));
                    break;
                case 4:
                    request.Options.Groups = Pick(random, -1, 3, int.MaxValue, int.MinValue);
                    break;
                case 5:
                    request.Options.Dilation.AddRange([Pick(random, 0, 5, int.MaxValue), 1]);
                    break;
                case 6:
                    request.Bias = Tensors.Make([1, 2, 3, 4, 5, 6, 7], random.Next(2) == 0, 7);
                    break;
                default:
                    request.Weight.Data.Clear();
                    break;
            }
        }

        return request;
    }

    private static SeparableConvolveRequest ValidSeparable(Random random)
    {
        int c = random.Next(1, 4), h = random.Next(3, 9), w = random.Next(3, 9), m = random.Next(1, 3), cout = random.Next(1, 4);
        bool raw = random.Next(2) == 0;
        var request = new SeparableConvolveRequest
        {
            Input = Tensors.Make(Tensors.Random(c * h * w, random.Next()), raw, c, h, w),
            Options = new ConvOptions { PaddingMode = PaddingMode.Same, Stride = { random.Next(1, 3) } },
        };
        if (random.Next(2) == 0)
        {
            request.DepthwiseSeparable = new DepthwiseSeparable
            {
                DepthwiseWeight = Tensors.Make(Tensors.Random(c * m * 9, random.Next()), raw, c * m, 1, 3, 3),
                PointwiseWeight = Tensors.Make(Tensors.Random(cout * c * m, random.Next()), !raw, cout, c * m, 1, 1),
            };
        }
        else
        {
            request.SpatiallySeparable = new SpatiallySeparable { Column = { Tensors.Random(random.Next(1, 4), 1) }, Row = { Tensors.Random(random.Next(1, 4), 2) } };
        }

        return request;
    }

    private static SeparableConvolveRequest RandomSeparable(Random random)
    {
        var request = new SeparableConvolveRequest { Input = RandomTensor(random), Options = RandomOptions(random) };
        switch (random.Next(3))
        {
            case 0:
                request.DepthwiseSeparable = new DepthwiseSeparable
                {
                    DepthwiseWeight = RandomTensor(random),
                    PointwiseWeight = RandomTensor(random),
                    DepthwiseBias = random.Next(2) == 0 ? RandomTensor(random) : null,
                };
                break;
            case 1:
                request.SpatiallySeparable = new SpatiallySeparable
                {
                    Column = { Tensors.Random(random.Next(6), random.Next()) },
                    Row = { Tensors.Random(random.Next(6), random.Next()) },
                };
                break;
        }

        return request;
    }

    /// <summary>A shape with mostly small, sometimes zero, negative or huge dimensions, and values that match it more often than not.</summary>
    private static Tensor RandomTensor(Random random)
    {
        var shape = RandomShape(random);
        var tensor = new Tensor { Shape = { shape } };
        long count = shape.Aggregate(1L, (a, d) => d <= 0 || a > 100_000 || d > 100_000 ? -1 : a * d);
        int values = count is > 0 and <= 20_000 && random.Next(4) != 0 ? (int)count : random.Next(40);
        var data = Tensors.Random(values, random.Next());
        switch (random.Next(5))
        {
            case 0:
                tensor.RawData = ByteString.CopyFrom(new byte[values * 4 + random.Next(1, 4)]);
                break;
            case 1:
                tensor.Data.AddRange(data);
                tensor.RawData = ByteString.CopyFrom(new byte[4]);
                break;
            case 2:
                tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
                break;
            default:
                tensor.Data.AddRange(data);
                break;
        }

        return tensor;
    }

    private static long[] RandomShape(Random random)
    {
        int rank = Pick(random, 0, 1, 2, 3, 4, 4, 4, 5);
        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            shape[i] = Pick(random, 1L, 1, 2, 3, 4, 5, 8, 0, -3, 1L << 33, long.MaxValue, int.MaxValue);
        }

        return shape;
    }

    private static ConvOptions RandomOptions(Random random)
    {
        var options = new ConvOptions
        {
            PaddingMode = (PaddingMode)Pick(random, 0, 0, 1, 2, 9),
            Groups = Pick(random, 0, 0, 1, 2, 3, -1, int.MaxValue),
        };
        options.Stride.AddRange(Enumerable.Range(0, Pick(random, 0, 1, 2, 3)).Select(_ => Pick(random, 1, 2, 0, -1, int.MaxValue)));
        options.Dilation.AddRange(Enumerable.Range(0, Pick(random, 0, 1, 2, 3)).Select(_ => Pick(random, 1, 2, 0, int.MaxValue)));
        options.Pads.AddRange(Enumerable.Range(0, Pick(random, 0, 0, 4, 4, 3)).Select(_ => Pick(random, 0, 1, 2, -1, int.MaxValue)));
        return options;
    }

    private static byte[] RandomBytes(Random random)
    {
        var body = new byte[random.Next(1, 64)];
        random.NextBytes(body);
        return body;
    }

    private static T Pick<T>(Random random, params T[] choices) => choices[random.Next(choices.Length)];
}
