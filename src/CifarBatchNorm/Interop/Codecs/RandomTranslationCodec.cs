using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary><see cref="RandomTranslation"/> in every format: Keras <c>RandomTranslation</c>; training-only, so the identity (no module, no node) at inference.</summary>
internal sealed class RandomTranslationCodec : LayerCodec<RandomTranslation>
{
    /// <inheritdoc />
    public override string? ReadsKerasClass => "RandomTranslation";

    /// <inheritdoc />
    protected override void WriteKerasConfig(RandomTranslation translation, JsonObject config)
    {
        config["height_factor"] = new JsonArray(translation.HeightRange.Lower, translation.HeightRange.Upper);
        config["width_factor"] = new JsonArray(translation.WidthRange.Lower, translation.WidthRange.Upper);
        config["fill_mode"] = KerasConfig.Snake(translation.FillMode);
        config["interpolation"] = KerasConfig.Snake(translation.Interpolation);
        config["seed"] = null;
        config["fill_value"] = translation.FillValue;
        config["data_format"] = "channels_last";
    }

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name)
    {
        KerasConfig.AugmentationArguments(args);
        var height = KerasConfig.Factor(args, "height_factor");
        var width = KerasConfig.Factor(args, "width_factor");
        return new RandomTranslation(height, width, KerasConfig.FromSnake(args, "fill_mode", FillMode.Reflect),
            KerasConfig.FromSnake(args, "interpolation", Interpolation.Bilinear), fillValue: args.Double("fill_value", 0), name: name);
    }

    /// <inheritdoc />
    protected override void AddPyTorchModules(RandomTranslation translation, PyTorchEquivalent.Modules modules)
    {
    }

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, RandomTranslation translation, Layer? next) => (x, false);
}
