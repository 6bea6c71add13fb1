using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary><see cref="RandomFlip"/> in every format: Keras <c>RandomFlip</c>; training-only, so the identity (no module, no node) at inference.</summary>
internal sealed class RandomFlipCodec : LayerCodec<RandomFlip>
{
    /// <inheritdoc />
    public override string? ReadsKerasClass => "RandomFlip";

    /// <inheritdoc />
    protected override void WriteKerasConfig(RandomFlip flip, JsonObject config)
    {
        config["mode"] = KerasConfig.Snake(flip.Mode);
        config["seed"] = null;
        config["data_format"] = "channels_last";
    }

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name)
    {
        KerasConfig.AugmentationArguments(args);
        return new RandomFlip(KerasConfig.FromSnake(args, "mode", FlipMode.HorizontalAndVertical), name: name);
    }

    /// <inheritdoc />
    protected override void AddPyTorchModules(RandomFlip flip, PyTorchEquivalent.Modules modules)
    {
    }

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, RandomFlip flip, Layer? next) => (x, false);
}
