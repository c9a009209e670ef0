using System.Text;
using Google.Protobuf;

namespace ConvService.Stress.Fuzzing;

/// <summary>
/// Turns hostile messages into wire bodies: most cases are well-formed encodings of broken
/// requests; the rest are mutated encodings, random protobuf bytes, random or malformed JSON.
/// Deterministic for a seed, so a failing case can be replayed.
/// </summary>
public sealed class FuzzCaseGenerator(Random random, int oversizeBytes, bool longTaps = true, bool hugeDilations = true)
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    // Field names of the contract, so random JSON hits known members with wrong types as well as unknown ones.
    private static readonly string[] JsonKeys =
    [
        "input", "weight", "bias", "options", "shape", "data", "rawData", "stride", "dilation", "pads", "paddingMode", "groups",
        "depthwiseSeparable", "spatiallySeparable", "depthwiseWeight", "pointwiseWeight", "column", "row", "inputShape",
        "kernelSize", "outputChannels", "depthMultiplier", "unknownField",
    ];

    private readonly HostileRequestGenerator requests = new(random, oversizeBytes, longTaps, hugeDilations);

    public FuzzCase Next(FuzzTransport transport)
    {
        var fuzzCase = NextUnflagged(transport);
        // Any body over the service's limit (oversizeBytes - 1024), mutated or not, may be cut off by the server mid-upload.
        return fuzzCase with { Oversize = fuzzCase.Body.Length > oversizeBytes - 1024 };
    }

    private FuzzCase NextUnflagged(FuzzTransport transport)
    {
        string method = random.Next(100) switch
        {
            < 45 => ConvolutionRoutes.Convolve,
            < 80 => ConvolutionRoutes.SeparableConvolve,
            _ => ConvolutionRoutes.EstimateCost,
        };
        IMessage message = method switch
        {
            ConvolutionRoutes.Convolve => requests.Convolve(),
            ConvolutionRoutes.SeparableConvolve => requests.Separable(),
            _ => requests.EstimateCost(),
        };
        return transport == FuzzTransport.Grpc ? ProtobufCase(method, message) : JsonCase(method, message);
    }

    private FuzzCase ProtobufCase(string method, IMessage message)
    {
        int roll = random.Next(100);
        if (roll < 70)
        {
            byte[] body = message.ToByteArray();
            return new(FuzzTransport.Grpc, method, body, "grpc/hostile-message", body.Length >= oversizeBytes);
        }

        if (roll < 85)
        {
            return new(FuzzTransport.Grpc, method, MutateBytes(message.ToByteArray()), "grpc/mutated-bytes", false);
        }

        if (roll < 95)
        {
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            return new(FuzzTransport.Grpc, method, bytes, "grpc/random-bytes", false);
        }

        return new(FuzzTransport.Grpc, method, CraftedProtobuf(), "grpc/crafted-bytes", false);
    }

    private FuzzCase JsonCase(string method, IMessage message)
    {
        int roll = random.Next(100);
        if (roll < 70)
        {
            byte[] body = Encoding.UTF8.GetBytes(Json.Format(message));
            return new(FuzzTransport.Rest, method, body, "rest/hostile-message", body.Length >= oversizeBytes);
        }

        if (roll < 85)
        {
            return new(FuzzTransport.Rest, method, MutateJson(Json.Format(message)), "rest/mutated-json", false);
        }

        if (roll < 95)
        {
            var text = new StringBuilder();
            AppendRandomJson(text, depth: 0);
            return new(FuzzTransport.Rest, method, Encoding.UTF8.GetBytes(text.ToString()), "rest/random-json", false);
        }

        return new(FuzzTransport.Rest, method, CraftedJson(), "rest/crafted-json", false);
    }

    private byte[] MutateBytes(byte[] bytes)
    {
        var list = new List<byte>(bytes);
        int edits = random.Next(1, 6);
        for (int i = 0; i < edits; i++)
        {
            int at = list.Count == 0 ? 0 : random.Next(list.Count);
            switch (random.Next(4))
            {
                case 0 when list.Count > 0:
                    list[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when list.Count > 0:
                    list[at] = (byte)random.Next(256);
                    break;
                case 2:
                    list.Insert(at, (byte)random.Next(256));
                    break;
                default:
                    if (list.Count > 0)
                    {
                        list.RemoveRange(at, list.Count - at); // truncation
                    }

                    break;
            }
        }

        return list.ToArray();
    }

    /// <summary>Protobuf the parser must survive: huge length prefixes, deep group nesting, bad wire types.</summary>
    private byte[] CraftedProtobuf() => random.Next(4) switch
    {
        // field 1 (input), length-delimited, length 2^31-ish varint, then a few bytes
        0 => [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x01, 0x02],
        // unknown field 15 as start-group, nested far beyond the recursion limit
        1 => Enumerable.Repeat((byte)0x7B, random.Next(101, 5000)).ToArray(),
        // field 1 with wire type 7 (invalid)
        2 => [0x0F, 0x00],
        // a varint that never ends
        _ => [0x08, .. Enumerable.Repeat((byte)0xFF, 12)],
    };

    private byte[] MutateJson(string json)
    {
        var text = new StringBuilder(json);
        int edits = random.Next(1, 4);
        const string Replacements = "{}[]\":,0123456789-.eE tfn\\";
        for (int i = 0; i < edits && text.Length > 0; i++)
        {
            int at = random.Next(text.Length);
            switch (random.Next(4))
            {
                case 0:
                    text[at] = Replacements[random.Next(Replacements.Length)];
                    break;
                case 1:
                    text.Insert(at, Replacements[random.Next(Replacements.Length)]);
                    break;
                case 2:
                    text.Remove(at, 1);
                    break;
                default:
                    text.Length = at; // truncation
                    break;
            }
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private void AppendRandomJson(StringBuilder text, int depth)
    {
        int kind = depth > 3 ? random.Next(2, 8) : random.Next(8);
        switch (kind)
        {
            case 0 or 1:
                text.Append('{');
                int members = random.Next(0, 5);
                for (int i = 0; i < members; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    text.Append('"').Append(JsonKeys[random.Next(JsonKeys.Length)]).Append("\":");
                    AppendRandomJson(text, depth + 1);
                }

                text.Append('}');
                break;
            case 2:
                text.Append('[');
                int items = random.Next(0, 5);
                for (int i = 0; i < items; i++)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    AppendRandomJson(text, depth + 1);
                }

                text.Append(']');
                break;
            case 3:
                string[] numbers = ["0", "-1", "1.5", "1e400", "-1e400", "9223372036854775808", "-9223372036854775809", "2147483648", "3", "1e-400", "-0"];
                text.Append(numbers[random.Next(numbers.Length)]);
                break;
            case 4:
                string[] strings = ["\"\"", "\"NaN\"", "\"Infinity\"", "\"PADDING_MODE_SAME\"", "\"PADDING_MODE_BOGUS\"", "\"AAAA\"", "\"!!notbase64\"", "\"12\"", "\"\\u0000\""];
                text.Append(strings[random.Next(strings.Length)]);
                break;
            case 5:
                text.Append(random.Next(2) == 0 ? "true" : "false");
                break;
            case 6:
                text.Append("null");
                break;
            default:
                text.Append(random.Next(-3, 20).ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>JSON the parser must survive: empty body, deep nesting, not JSON at all, invalid UTF-8.</summary>
    private byte[] CraftedJson() => random.Next(5) switch
    {
        0 => [],
        1 => Encoding.UTF8.GetBytes(new string('[', random.Next(65, 20000))),
        2 => Encoding.UTF8.GetBytes("{\"input\":" + string.Concat(Enumerable.Repeat("{\"shape\":", random.Next(65, 2000))) + "1"),
        3 => [0xFF, 0xFE, 0x7B, 0xC3, 0x28, 0x7D],
        _ => Encoding.UTF8.GetBytes("not json at all"),
    };
}
