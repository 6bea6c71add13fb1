using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary><see cref="Conv2D"/> in every format: Keras <c>Conv2D</c>, PyTorch <c>nn.Conv2d</c>, ONNX <c>Conv</c> (with a following BN folded in).</summary>
internal sealed class Conv2DCodec : LayerCodec<Conv2D>
{
    private static readonly VariableMapping[] WithBias =
    [
        new("kernel", "conv.weight", "weight", WeightLayout.ConvKernel),
        new("bias", "conv.bias", "bias", WeightLayout.Vector),
    ];

    /// <inheritdoc />
    public override string? ReadsKerasClass => "Conv2D";

    /// <inheritdoc />
    protected override IReadOnlyList<VariableMapping> Variables(Conv2D layer) => layer.UseBias ? WithBias : WithBias[..1];

    /// <inheritdoc />
    protected override void WriteKerasConfig(Conv2D conv, JsonObject config)
    {
        config["filters"] = conv.Filters;
        config["kernel_size"] = KerasConfig.Pair(conv.KernelSize);
        config["strides"] = KerasConfig.Pair(conv.Strides);
        config["padding"] = conv.Padding == ConvPadding.Same ? "same" : "valid";
        config["data_format"] = "channels_last";
        config["dilation_rate"] = KerasConfig.Pair(1);
        config["groups"] = 1;
        config["activation"] = Activations.Name(conv.Activation);
        config["use_bias"] = conv.UseBias;
        KerasConfig.AddInitializersAndNulls(config, "kernel", "bias", activityRegularizer: true);
    }

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name)
    {
        int filters = args.Int("filters");
        int kernel = args.Square("kernel_size");
        int strides = args.Square("strides", 1);
        var padding = args.Padding();
        args.Expect("data_format", "channels_last", null);
        args.Expect("dilation_rate", 1);
        args.Expect("groups", 1);
        var activation = args.Activation("activation");
        bool useBias = args.Bool("use_bias", true);
        KerasConfig.IgnoreInitializersAndCheckNulls(args);
        return new Conv2D(filters, kernel, strides, padding, activation, useBias, name);
    }

    /// <inheritdoc />
    protected override void AddPyTorchModules(Conv2D conv, PyTorchEquivalent.Modules modules)
    {
        int padding = conv.Padding == ConvPadding.Same ? conv.KernelSize / 2 : 0;
        modules.AddWeights(conv, PyTorchEquivalent.Invariant(
            $"nn.Conv2d({conv.InputShape.Features}, {conv.Filters}, {conv.KernelSize}, stride={conv.Strides}, padding={padding}, bias={PyTorchEquivalent.Py(conv.UseBias)})"));
        modules.AddActivation(conv.Activation);
    }

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, Conv2D conv, Layer? next)
    {
        double? foldedEpsilon = conv.Activation == ActivationFunction.Linear && next is not null ? LayerCodecs.For(next).FoldableEpsilon(next) : null;
        x = graph.Conv(x, conv, foldedEpsilon is double epsilon ? (next!, epsilon) : null);
        return (graph.Activation(x, conv.Activation), foldedEpsilon is not null);
    }
}
