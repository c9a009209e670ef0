using ConvService.Compute;

namespace ConvService.Benchmarks.Peers;

/// <summary>
/// Writes ONNX ModelProto bytes for small graphs of Conv nodes, using the field numbers of
/// onnx.proto (IR version 8, default-domain opset 17). Weights go in as initializers.
/// </summary>
internal sealed class OnnxModelWriter
{
    // onnx.proto field numbers.
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelGraph = 7, ModelOpsetImport = 8;
    private const int OpsetDomain = 1, OpsetVersion = 2;
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    private const int AttrName = 1, AttrI = 3, AttrInts = 8, AttrType = 20;
    private const int AttrTypeInt = 2, AttrTypeInts = 7;
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    private const int TensorTypeFloat = 1;
    private const int ValueInfoName = 1, ValueInfoType = 2;
    private const int TypeTensorType = 1, TypeTensorElemType = 1, TypeTensorShape = 2;
    private const int ShapeDim = 1, DimValue = 1;

    private readonly List<(string Name, long[] Shape)> _inputs = [];
    private readonly List<(string Name, long[] Shape)> _outputs = [];
    private readonly List<(string Name, long[] Dims, float[] Data)> _initializers = [];
    private readonly List<ConvNode> _nodes = [];

    private sealed record ConvNode(string Input, string Weight, string? Bias, string Output, Conv2dGeometry Geometry, long[] Pads);

    public OnnxModelWriter Input(string name, long[] shape)
    {
        _inputs.Add((name, shape));
        return this;
    }

    public OnnxModelWriter Output(string name, long[] shape)
    {
        _outputs.Add((name, shape));
        return this;
    }

    public OnnxModelWriter Initializer(string name, long[] dims, float[] data)
    {
        _initializers.Add((name, dims, data));
        return this;
    }

    /// <summary>A Conv node with the geometry's kernel, strides, dilations, group and resolved pads.</summary>
    public OnnxModelWriter Conv(string input, string weight, string? bias, string output, Conv2dGeometry g)
    {
        // ONNX pads: [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right].
        _nodes.Add(new ConvNode(input, weight, bias, output, g, [g.PadTop, g.PadLeft, g.PadBottom, g.PadRight]));
        return this;
    }

    public byte[] Build()
    {
        var model = new ProtoWriter();
        model.Int64(ModelIrVersion, 8);
        model.String(ModelProducerName, "ConvService.Benchmarks");
        model.Message(ModelOpsetImport, o =>
        {
            o.String(OpsetDomain, "");
            o.Int64(OpsetVersion, 17);
        });
        model.Message(ModelGraph, WriteGraph);
        return model.ToArray();
    }

    private void WriteGraph(ProtoWriter graph)
    {
        for (int i = 0; i < _nodes.Count; i++)
        {
            var node = _nodes[i];
            graph.Message(GraphNode, n => WriteConv(n, node, $"conv{i}"));
        }

        graph.String(GraphName, "convservice_peer");
        foreach (var (name, dims, data) in _initializers)
        {
            graph.Message(GraphInitializer, t =>
            {
                t.Int64s(TensorDims, dims);
                t.Int64(TensorDataType, TensorTypeFloat);
                t.String(TensorName, name);
                t.FloatsAsBytes(TensorRawData, data);
            });
        }

        foreach (var (name, shape) in _inputs)
        {
            graph.Message(GraphInput, v => WriteValueInfo(v, name, shape));
        }

        foreach (var (name, shape) in _outputs)
        {
            graph.Message(GraphOutput, v => WriteValueInfo(v, name, shape));
        }
    }

    private static void WriteConv(ProtoWriter n, ConvNode node, string name)
    {
        n.String(NodeInput, node.Input);
        n.String(NodeInput, node.Weight);
        if (node.Bias is not null)
        {
            n.String(NodeInput, node.Bias);
        }

        n.String(NodeOutput, node.Output);
        n.String(NodeName, name);
        n.String(NodeOpType, "Conv");
        var g = node.Geometry;
        n.Message(NodeAttribute, a => Ints(a, "kernel_shape", [g.KernelH, g.KernelW]));
        n.Message(NodeAttribute, a => Ints(a, "strides", [g.StrideH, g.StrideW]));
        n.Message(NodeAttribute, a => Ints(a, "dilations", [g.DilationH, g.DilationW]));
        n.Message(NodeAttribute, a => Ints(a, "pads", node.Pads));
        n.Message(NodeAttribute, a =>
        {
            a.String(AttrName, "group");
            a.Int64(AttrI, g.Groups);
            a.Int64(AttrType, AttrTypeInt);
        });
    }

    private static void Ints(ProtoWriter a, string name, long[] values)
    {
        a.String(AttrName, name);
        a.Int64s(AttrInts, values);
        a.Int64(AttrType, AttrTypeInts);
    }

    private static void WriteValueInfo(ProtoWriter v, string name, long[] shape)
    {
        v.String(ValueInfoName, name);
        v.Message(ValueInfoType, type => type.Message(TypeTensorType, tensor =>
        {
            tensor.Int64(TypeTensorElemType, TensorTypeFloat);
            tensor.Message(TypeTensorShape, s =>
            {
                foreach (long d in shape)
                {
                    s.Message(ShapeDim, dim => dim.Int64(DimValue, d));
                }
            });
        }));
    }
}
