using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary><see cref="Flatten"/> in every format: Keras <c>Flatten</c>, PyTorch <c>nn.Flatten</c>, ONNX <c>Flatten</c>.</summary>
internal sealed class FlattenCodec : LayerCodec<Flatten>
{
    /// <inheritdoc />
    public override string? ReadsKerasClass => "Flatten";

    /// <inheritdoc />
    protected override void WriteKerasConfig(Flatten layer, JsonObject config) => config["data_format"] = "channels_last";

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name)
    {
        args.Expect("data_format", "channels_last", null);
        return new Flatten(name);
    }

    /// <inheritdoc />
    protected override void AddPyTorchModules(Flatten layer, PyTorchEquivalent.Modules modules) => modules.Add("nn.Flatten()");

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, Flatten layer, Layer? next) =>
        (graph.Node("Flatten", [x], a => a.Add(OnnxExporter.Int("axis", 1))), false);
}
