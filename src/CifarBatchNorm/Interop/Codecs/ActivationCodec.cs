using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary><see cref="Activation"/> in every format: Keras <c>Activation</c>, the PyTorch module and the ONNX node of its function.</summary>
internal sealed class ActivationCodec : LayerCodec<Activation>
{
    /// <inheritdoc />
    public override string? ReadsKerasClass => "Activation";

    /// <inheritdoc />
    protected override void WriteKerasConfig(Activation activation, JsonObject config) => config["activation"] = Activations.Name(activation.Function);

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name) => new Activation(args.Activation("activation"), name);

    /// <inheritdoc />
    protected override void AddPyTorchModules(Activation activation, PyTorchEquivalent.Modules modules) => modules.AddActivation(activation.Function);

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, Activation activation, Layer? next) =>
        (graph.Activation(x, activation.Function), false);
}
