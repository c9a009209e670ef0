using System.Runtime.InteropServices;
using ConvService.Compute;
using ConvService.Contract.V1;

namespace ConvService.Api.Mapping;

/// <summary>
/// One tensor of a request, checked for its encoding (data or raw_data, not both; raw_data a
/// whole number of float32; as many values as the shape needs) without touching its values.
/// </summary>
public sealed class TensorArgument
{
    private TensorArgument(string field, Tensor? tensor, long[] shape)
    {
        Field = field;
        Tensor = tensor;
        Shape = shape;
    }

    /// <summary>The contract path of the tensor, e.g. "weight" or "depthwise_separable.pointwise_bias".</summary>
    public string Field { get; }

    public Tensor? Tensor { get; }

    public long[] Shape { get; }

    /// <summary>True when the values came as raw_data (little-endian float32 bytes).</summary>
    public bool IsRaw => Tensor is { RawData.IsEmpty: false };

    /// <summary>Number of values sent, in either encoding.</summary>
    public long ValueCount => Tensor is null ? 0 : IsRaw ? Tensor.RawData.Length / sizeof(float) : Tensor.Data.Count;

    /// <summary>Reads the tensor's shape and checks its encoding; a missing tensor has an empty shape (ConvShapes reports it when required).</summary>
    public static TensorArgument Read(Tensor? tensor, string field, List<FieldViolation> errors)
    {
        var argument = new TensorArgument(field, tensor, tensor is null ? [] : [.. tensor.Shape]);
        if (tensor is null)
        {
            return argument;
        }

        bool hasData = tensor.Data.Count > 0, hasRaw = !tensor.RawData.IsEmpty;
        if (hasData && hasRaw)
        {
            errors.Add(new(field, "set either data or raw_data, not both"));
            return argument;
        }

        string valuesField = hasRaw ? field + ".raw_data" : field + ".data";
        if (hasRaw && tensor.RawData.Length % sizeof(float) != 0)
        {
            errors.Add(new(valuesField, $"length {tensor.RawData.Length} bytes is not a multiple of 4 (little-endian float32)"));
            return argument;
        }

        long count = argument.ValueCount;
        if (argument.Shape.Length == 0)
        {
            if (count > 0)
            {
                errors.Add(new(field + ".shape", $"is required when values are given ({count} values)"));
            }

            return argument;
        }

        long expected = ConvShapes.ElementCount(argument.Shape);
        if (expected > 0 && count != expected)
        {
            errors.Add(new(valuesField, $"has {count} values but shape [{string.Join(", ", argument.Shape)}] needs {expected}"));
        }

        return argument;
    }

    /// <summary>
    /// The values as floats: raw_data is reinterpreted in place (no copy); data is copied into a buffer
    /// rented from <paramref name="buffers"/>. Absent tensors give an empty span.
    /// </summary>
    public ReadOnlySpan<float> Values(RentedBuffers buffers)
    {
        if (Tensor is null)
        {
            return default;
        }

        if (IsRaw)
        {
            // Little-endian only (x64, Arm64); the contract's byte order is the machine's.
            return MemoryMarshal.Cast<byte, float>(Tensor.RawData.Span);
        }

        var values = Tensor.Data;
        if (values.Count == 0)
        {
            return default;
        }

        var buffer = buffers.RentFloats(values.Count);
        values.CopyTo(buffer, 0);
        return buffer.AsSpan(0, values.Count);
    }
}
