using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary><see cref="Dropout"/> in every format: Keras <c>Dropout</c>, PyTorch <c>nn.Dropout</c>; the identity at inference, so no ONNX node.</summary>
internal sealed class DropoutCodec : LayerCodec<Dropout>
{
    /// <inheritdoc />
    public override string? ReadsKerasClass => "Dropout";

    /// <inheritdoc />
    protected override void WriteKerasConfig(Dropout dropout, JsonObject config)
    {
        config["rate"] = dropout.Rate;
        config["seed"] = null;
        config["noise_shape"] = null;
    }

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name)
    {
        args.Take("seed");
        args.Take("noise_shape", mustBeNull: true);
        return new Dropout(args.Double("rate", 0), name);
    }

    /// <inheritdoc />
    protected override void AddPyTorchModules(Dropout dropout, PyTorchEquivalent.Modules modules) =>
        modules.Add(PyTorchEquivalent.Invariant($"nn.Dropout(p={dropout.Rate:R})"));

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, Dropout dropout, Layer? next) => (x, false);
}
