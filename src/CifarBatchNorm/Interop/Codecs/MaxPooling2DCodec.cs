using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary><see cref="MaxPooling2D"/> in every format: Keras <c>MaxPooling2D</c>, PyTorch <c>nn.MaxPool2d</c>, ONNX <c>MaxPool</c>.</summary>
internal sealed class MaxPooling2DCodec : LayerCodec<MaxPooling2D>
{
    /// <inheritdoc />
    public override string? ReadsKerasClass => "MaxPooling2D";

    /// <inheritdoc />
    protected override void WriteKerasConfig(MaxPooling2D pool, JsonObject config)
    {
        config["pool_size"] = KerasConfig.Pair(pool.PoolSize);
        config["padding"] = pool.Padding == ConvPadding.Same ? "same" : "valid";
        config["strides"] = KerasConfig.Pair(pool.Strides);
        config["data_format"] = "channels_last";
    }

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name)
    {
        int pool = args.Square("pool_size", 2);
        int? strides = args.Has("strides") ? args.Square("strides", pool) : null;
        var padding = args.Padding();
        args.Expect("data_format", "channels_last", null);
        return new MaxPooling2D(pool, strides, padding, name);
    }

    /// <inheritdoc />
    protected override void AddPyTorchModules(MaxPooling2D pool, PyTorchEquivalent.Modules modules) =>
        modules.Add(PyTorchEquivalent.Invariant($"nn.MaxPool2d({pool.PoolSize}, stride={pool.Strides})"));

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, MaxPooling2D pool, Layer? next) =>
        (graph.Node("MaxPool", [x], a =>
        {
            a.Add(OnnxExporter.Ints("kernel_shape", pool.PoolSize, pool.PoolSize));
            a.Add(OnnxExporter.Ints("strides", pool.Strides, pool.Strides));
            a.Add(OnnxExporter.Ints("pads", pool.Pads.Top, pool.Pads.Left, pool.Pads.Bottom, pool.Pads.Right));
        }), false);
}
