using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary>
/// <see cref="RandomCrop"/> in every format: Keras <c>RandomCrop</c>; at inference a crop back to the input's size is
/// the identity (no module, no node), and another size cannot be exported.
/// </summary>
internal sealed class RandomCropCodec : LayerCodec<RandomCrop>
{
    /// <inheritdoc />
    public override string? ReadsKerasClass => "RandomCrop";

    /// <inheritdoc />
    protected override void WriteKerasConfig(RandomCrop crop, JsonObject config)
    {
        // Padding is this library's training-only addition (torchvision's); Keras has no such argument, and
        // inference does not use it, so the archive describes the same inference model.
        config["height"] = crop.Height;
        config["width"] = crop.Width;
        config["seed"] = null;
        config["data_format"] = "channels_last";
    }

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name)
    {
        KerasConfig.AugmentationArguments(args);
        return new RandomCrop(args.Int("height"), args.Int("width"), name: name);
    }

    /// <inheritdoc />
    protected override void AddPyTorchModules(RandomCrop crop, PyTorchEquivalent.Modules modules) => RequireIdentity(crop, "has no PyTorch equivalent here");

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, RandomCrop crop, Layer? next)
    {
        RequireIdentity(crop, "cannot be exported to ONNX");
        return (x, false);
    }

    private static void RequireIdentity(RandomCrop crop, string what)
    {
        if (crop.InputShape.Dims[0] != crop.Height || crop.InputShape.Dims[1] != crop.Width)
        {
            throw new NotSupportedException($"Layer '{crop.Name}' ({crop.KerasType}) {what}: it crops to another size than its input's at inference.");
        }
    }
}
