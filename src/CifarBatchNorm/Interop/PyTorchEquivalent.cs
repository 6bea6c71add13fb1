using System.Globalization;
using System.Text;
using CifarBatchNorm.Interop.Codecs;
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

    /// <summary>The modules of the equivalent nn.Sequential as they are added, and where each layer's weights sit.</summary>
    internal sealed class Modules
    {
        /// <summary>The Python source of each module, in order.</summary>
        public List<string> Lines { get; } = [];

        /// <summary>Per layer with weights: the index of its module.</summary>
        public Dictionary<Layer, int> Indices { get; } = [];

        /// <summary>Adds a module without weights.</summary>
        public void Add(string module) => Lines.Add(module);

        /// <summary>Adds the module that holds <paramref name="layer"/>'s weights.</summary>
        public void AddWeights(Layer layer, string module)
        {
            Indices[layer] = Lines.Count;
            Lines.Add(module);
        }

        /// <summary>Adds the module of <paramref name="activation"/> (none for <c>linear</c>).</summary>
        public void AddActivation(ActivationFunction activation)
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
                Lines.Add(module);
            }
        }
    }

    private static (Dictionary<Layer, int> Indices, string Source) Build(Sequential model)
    {
        var built = new Modules();
        foreach (var layer in model.Layers)
        {
            LayerCodecs.For(layer).AddPyTorchModules(layer, built);
        }

        var indices = built.Indices;
        var modules = built.Lines;
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

    /// <summary>PyTorch's batch normalization module for a Keras one (Keras's momentum weighs the old moving value, PyTorch's the new batch value).</summary>
    internal static string BatchNorm(LayerShape input, double epsilon, double momentum) => Invariant(
        $"nn.BatchNorm{(input.Rank == 3 ? "2d" : "1d")}({input.Features}, eps={epsilon:R}, momentum={Math.Round(1 - momentum, 12):R})");

    /// <summary>A Python boolean.</summary>
    internal static string Py(bool value) => value ? "True" : "False";

    /// <summary>The text in the invariant culture.</summary>
    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
