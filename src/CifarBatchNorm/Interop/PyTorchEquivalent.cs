using System.Globalization;
using System.Text;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// The PyTorch <c>nn.Sequential</c> that computes what a model computes (in inference), and where each layer's
/// weights sit in it: the names a <c>.safetensors</c> export uses, so <c>load_state_dict</c> takes the file as is.
/// </summary>
internal static class PyTorchEquivalent
{
    /// <summary>Per layer with weights: the index of its module in the nn.Sequential.</summary>
    public static Dictionary<Layer, int> ModuleIndices(Sequential model) => Build(model).Indices;

    /// <summary>Python source that builds the equivalent module as <c>model</c> (imports included).</summary>
    public static string Source(Sequential model) => Build(model).Source;

    private static (Dictionary<Layer, int> Indices, string Source) Build(Sequential model)
    {
        var indices = new Dictionary<Layer, int>();
        var modules = new List<string>();
        foreach (var layer in model.Layers)
        {
            switch (layer)
            {
                case Conv2D conv:
                    indices[conv] = modules.Count;
                    int padding = conv.Padding == ConvPadding.Same ? conv.KernelSize / 2 : 0;
                    modules.Add(Invariant($"nn.Conv2d({conv.InputShape.Features}, {conv.Filters}, {conv.KernelSize}, stride={conv.Strides}, padding={padding}, bias={Py(conv.UseBias)})"));
                    AddActivation(modules, conv.Activation);
                    break;
                case Dense dense:
                    indices[dense] = modules.Count;
                    modules.Add(Invariant($"nn.Linear({dense.InputShape.Features}, {dense.Units}, bias={Py(dense.UseBias)})"));
                    AddActivation(modules, dense.Activation);
                    break;
                case BatchNormalization bn:
                    indices[bn] = modules.Count;
                    modules.Add(BatchNorm(bn.InputShape, bn.Epsilon, bn.Momentum));
                    break;
                case BatchRenormalization renorm:
                    indices[renorm] = modules.Count;
                    modules.Add(BatchNorm(renorm.InputShape, renorm.Epsilon, renorm.Momentum));
                    break;
                case MaxPooling2D pool:
                    modules.Add(Invariant($"nn.MaxPool2d({pool.PoolSize}, stride={pool.Strides})"));
                    break;
                case Flatten:
                    modules.Add("nn.Flatten()");
                    break;
                case Activation activation:
                    AddActivation(modules, activation.Function);
                    break;
                case Dropout dropout:
                    modules.Add(Invariant($"nn.Dropout(p={dropout.Rate:R})"));
                    break;
                default:
                    throw new NotSupportedException($"Layer '{layer.Name}' ({layer.KerasType}) has no PyTorch equivalent here.");
            }
        }

        var source = new StringBuilder();
        source.AppendLine("import torch");
        source.AppendLine("from torch import nn");
        source.AppendLine();
        source.AppendLine("model = nn.Sequential(");
        for (int i = 0; i < modules.Count; i++)
        {
            source.AppendLine(CultureInfo.InvariantCulture, $"    {modules[i]},  # {i}");
        }

        source.AppendLine(")");
        return (indices, source.ToString());
    }

    // Keras's momentum weighs the old moving value, PyTorch's the new batch value.
    private static string BatchNorm(LayerShape input, double epsilon, double momentum) => Invariant(
        $"nn.BatchNorm{(input.Rank == 3 ? "2d" : "1d")}({input.Features}, eps={epsilon:R}, momentum={Math.Round(1 - momentum, 12):R})");

    private static void AddActivation(List<string> modules, ActivationFunction activation)
    {
        string? module = activation switch
        {
            ActivationFunction.Linear => null,
            ActivationFunction.Relu => "nn.ReLU()",
            ActivationFunction.Softmax => "nn.Softmax(dim=1)",
            ActivationFunction.Sigmoid => "nn.Sigmoid()",
            ActivationFunction.Tanh => "nn.Tanh()",
            _ => throw new NotSupportedException($"Activation {activation} has no PyTorch module here."),
        };
        if (module is not null)
        {
            modules.Add(module);
        }
    }

    private static string Py(bool value) => value ? "True" : "False";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
