using System.Globalization;
using System.Text.Json;
using CifarBatchNorm.IO;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using Google.Protobuf;
using CifarBatchNorm.Interop.Onnx;

namespace CifarBatchNorm.Interop;

/// <summary>
/// Exports a model for inference as ONNX (opset <see cref="Opset"/>), built from the official onnx.proto message
/// types. The graph takes Keras's layout, <c>input</c> (batch, height, width, channels) float32 with a dynamic
/// batch, pixels scaled to [0, 1] as in training, transposes it to (N, C, H, W) and gives <c>probabilities</c>
/// (batch, classes) after a softmax. Batch normalization uses the moving statistics (inference mode): folded into the
/// convolution before it when nothing lies between them, else an ONNX BatchNormalization node (Batch
/// Renormalization at inference is the same). The metadata holds the class names (<c>class_names</c>, a JSON array).
/// </summary>
public static class OnnxExporter
{
    /// <summary>The ONNX operator set the graph uses.</summary>
    public const int Opset = 17;

    /// <summary>Name of the graph input.</summary>
    public const string InputName = "input";

    /// <summary>Name of the graph output.</summary>
    public const string OutputName = "probabilities";

    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> as ONNX, through a temporary file.</summary>
    /// <param name="model">The model (its current weights and moving statistics).</param>
    /// <param name="path">The output file, usually <c>*.onnx</c>.</param>
    /// <param name="classNames">Class names for the metadata; <c>null</c> writes <c>class_0</c>, <c>class_1</c>, ...</param>
    public static void Export(Sequential model, string path, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = Build(model, classNames).ToByteArray();
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        AtomicFile.Write(path, temp => File.WriteAllBytes(temp, bytes));
    }

    internal static ModelProto Build(Sequential model, IReadOnlyList<string>? classNames)
    {
        if (model.Layers.Count == 0)
        {
            throw new ArgumentException("The model has no layers to export.", nameof(model));
        }

        int classes = model.OutputShape.Features;
        classNames ??= Enumerable.Range(0, classes).Select(i => $"class_{i}").ToArray();
        if (classNames.Count != classes)
        {
            throw new ArgumentException($"{classNames.Count} class names for a model with {classes} outputs.", nameof(classNames));
        }

        var graph = new GraphBuilder(ModelState.Read(model));
        var input = model.InputShape;
        string x = InputName;
        graph.Graph.Input.Add(ValueInfo(InputName, input.Dims.Select(d => (long)d)));
        if (input.Rank == 3)
        {
            x = graph.Node("Transpose", [x], a => a.Add(Ints("perm", 0, 3, 1, 2)));
        }

        var layers = model.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var next = i + 1 < layers.Count ? layers[i + 1] : null;
            switch (layer)
            {
                case Conv2D conv:
                    bool fold = conv.Activation == ActivationFunction.Linear && next is BatchNormalization or BatchRenormalization;
                    x = graph.Conv(x, conv, fold ? next : null);
                    x = graph.Activation(x, conv.Activation);
                    if (fold)
                    {
                        i++;
                    }

                    break;
                case Dense dense:
                    x = graph.Gemm(x, dense);
                    x = graph.Activation(x, dense.Activation);
                    break;
                case BatchNormalization or BatchRenormalization:
                    x = graph.BatchNorm(x, layer);
                    break;
                case MaxPooling2D pool:
                    x = graph.Node("MaxPool", [x], a =>
                    {
                        a.Add(Ints("kernel_shape", pool.PoolSize, pool.PoolSize));
                        a.Add(Ints("strides", pool.Strides, pool.Strides));
                        a.Add(Ints("pads", pool.Pads.Top, pool.Pads.Left, pool.Pads.Bottom, pool.Pads.Right));
                    });
                    break;
                case Flatten:
                    x = graph.Node("Flatten", [x], a => a.Add(Int("axis", 1)));
                    break;
                case Activation activation:
                    x = graph.Activation(x, activation.Function);
                    break;
                case RandomFlip or RandomTranslation or Dropout:
                    break;   // training-only: the identity at inference
                case RandomCrop crop when layer.InputShape.Dims[0] == crop.Height && layer.InputShape.Dims[1] == crop.Width:
                    break;   // a crop back to the input's size is the identity at inference
                default:
                    throw new NotSupportedException($"Layer '{layer.Name}' ({layer.KerasType}) cannot be exported to ONNX.");
            }
        }

        if (!model.OutputsProbabilities)
        {
            x = graph.Activation(x, ActivationFunction.Softmax);
        }

        graph.Graph.Node.Add(new NodeProto { OpType = "Identity", Input = { x }, Output = { OutputName }, Name = "output" });
        graph.Graph.Output.Add(ValueInfo(OutputName, [classes]));
        graph.Graph.Name = model.ModelName;

        var proto = new ModelProto
        {
            IrVersion = (long)Onnx.Version.IrVersion,
            ProducerName = "CifarBatchNorm",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0",
            DocString = "Input: images (batch, height, width, channels), pixels / 255. Output: class probabilities.",
            Graph = graph.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "class_names", Value = JsonSerializer.Serialize(classNames) });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "input_layout", Value = "NHWC" });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "input_scaling", Value = "pixels / 255" });
        return proto;
    }

    private static ValueInfoProto ValueInfo(string name, IEnumerable<long> dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (long d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType, Shape = shape } },
        };
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>Accumulates nodes and initializers, naming every value uniquely.</summary>
    private sealed class GraphBuilder(Dictionary<string, WeightArray> state)
    {
        private int _count;

        public GraphProto Graph { get; } = new();

        public string Node(string op, IEnumerable<string> inputs, Action<List<AttributeProto>>? attributes = null)
        {
            string output = $"{op.ToLowerInvariant()}_{_count++.ToString(CultureInfo.InvariantCulture)}";
            var node = new NodeProto { OpType = op, Name = output, Output = { output } };
            node.Input.Add(inputs);
            var list = new List<AttributeProto>();
            attributes?.Invoke(list);
            node.Attribute.Add(list);
            Graph.Node.Add(node);
            return output;
        }

        public string Activation(string x, ActivationFunction activation) => activation switch
        {
            ActivationFunction.Linear => x,
            ActivationFunction.Relu => Node("Relu", [x]),
            ActivationFunction.Sigmoid => Node("Sigmoid", [x]),
            ActivationFunction.Tanh => Node("Tanh", [x]),
            ActivationFunction.Softmax => Node("Softmax", [x], a => a.Add(Int("axis", 1))),
            _ => throw new NotSupportedException($"Activation {activation} cannot be exported to ONNX."),
        };

        public string Conv(string x, Conv2D conv, Layer? foldedNorm)
        {
            var weight = state[$"{conv.Name}.conv.weight"];
            float[] w = (float[])weight.Data.Clone();
            float[] b = conv.UseBias ? (float[])state[$"{conv.Name}.conv.bias"].Data.Clone() : new float[conv.Filters];
            if (foldedNorm is not null)
            {
                // y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta, per output channel.
                var (scale, shift) = NormalizationAffine(foldedNorm);
                int perFilter = w.Length / conv.Filters;
                for (int o = 0; o < conv.Filters; o++)
                {
                    for (int k = 0; k < perFilter; k++)
                    {
                        w[(o * perFilter) + k] = (float)(w[(o * perFilter) + k] * scale[o]);
                    }

                    b[o] = (float)((b[o] * scale[o]) + shift[o]);
                }
            }

            string wName = Initializer($"{conv.Name}.kernel", weight.Shape, w);
            string bName = Initializer($"{conv.Name}.bias", [conv.Filters], b);
            return Node("Conv", [x, wName, bName], a =>
            {
                a.Add(Ints("kernel_shape", conv.KernelSize, conv.KernelSize));
                a.Add(Ints("strides", conv.Strides, conv.Strides));
                a.Add(Ints("pads", conv.Pads.Top, conv.Pads.Left, conv.Pads.Bottom, conv.Pads.Right));
            });
        }

        public string Gemm(string x, Dense dense)
        {
            var weight = state[$"{dense.Name}.linear.weight"];
            var inputs = new List<string> { x, Initializer($"{dense.Name}.kernel", weight.Shape, weight.Data) };
            if (dense.UseBias)
            {
                inputs.Add(Initializer($"{dense.Name}.bias", [dense.Units], state[$"{dense.Name}.linear.bias"].Data));
            }

            return Node("Gemm", inputs, a => a.Add(Int("transB", 1)));
        }

        public string BatchNorm(string x, Layer layer)
        {
            var (gamma, beta, mean, variance, epsilon) = Statistics(layer);
            long[] shape = [gamma.Length];
            return Node("BatchNormalization",
                [x, Initializer($"{layer.Name}.gamma", shape, gamma), Initializer($"{layer.Name}.beta", shape, beta),
                 Initializer($"{layer.Name}.moving_mean", shape, mean), Initializer($"{layer.Name}.moving_variance", shape, variance)],
                a => a.Add(Float("epsilon", (float)epsilon)));
        }

        private (double[] Scale, double[] Shift) NormalizationAffine(Layer layer)
        {
            var (gamma, beta, mean, variance, epsilon) = Statistics(layer);
            var scale = new double[gamma.Length];
            var shift = new double[gamma.Length];
            for (int c = 0; c < gamma.Length; c++)
            {
                scale[c] = gamma[c] / Math.Sqrt(variance[c] + epsilon);
                shift[c] = beta[c] - (mean[c] * scale[c]);
            }

            return (scale, shift);
        }

        private (float[] Gamma, float[] Beta, float[] Mean, float[] Variance, double Epsilon) Statistics(Layer layer)
        {
            var names = WeightMappingTable.For(layer).ToDictionary(v => v.KerasName, v => $"{layer.Name}.{v.StateSuffix}", StringComparer.Ordinal);
            double epsilon = layer switch
            {
                BatchNormalization bn => bn.Epsilon,
                BatchRenormalization renorm => renorm.Epsilon,
                _ => throw new ArgumentException($"Layer '{layer.Name}' is not a normalization.", nameof(layer)),
            };
            return (state[names["gamma"]].Data, state[names["beta"]].Data, state[names["moving_mean"]].Data, state[names["moving_variance"]].Data, epsilon);
        }

        private string Initializer(string name, long[] shape, float[] data)
        {
            var tensor = new TensorProto { Name = name, DataType = FloatType };
            tensor.Dims.Add(shape);
            var bytes = new byte[data.Length * sizeof(float)];
            for (int i = 0; i < data.Length; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), data[i]);
            }

            tensor.RawData = ByteString.CopyFrom(bytes);
            Graph.Initializer.Add(tensor);
            return name;
        }
    }
}
