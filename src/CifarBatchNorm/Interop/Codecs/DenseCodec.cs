using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary><see cref="Dense"/> in every format: Keras <c>Dense</c>, PyTorch <c>nn.Linear</c>, ONNX <c>Gemm</c>.</summary>
internal sealed class DenseCodec : LayerCodec<Dense>
{
    private static readonly VariableMapping[] WithBias =
    [
        new("kernel", "linear.weight", "weight", WeightLayout.DenseKernel),
        new("bias", "linear.bias", "bias", WeightLayout.Vector),
    ];

    /// <inheritdoc />
    public override string? ReadsKerasClass => "Dense";

    /// <inheritdoc />
    protected override IReadOnlyList<VariableMapping> Variables(Dense layer) => layer.UseBias ? WithBias : WithBias[..1];

    /// <inheritdoc />
    protected override void WriteKerasConfig(Dense dense, JsonObject config)
    {
        config["units"] = dense.Units;
        config["activation"] = Activations.Name(dense.Activation);
        config["use_bias"] = dense.UseBias;
        KerasConfig.AddInitializersAndNulls(config, "kernel", "bias", activityRegularizer: false);
    }

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name)
    {
        int units = args.Int("units");
        var activation = args.Activation("activation");
        bool useBias = args.Bool("use_bias", true);
        KerasConfig.IgnoreInitializersAndCheckNulls(args);
        return new Dense(units, activation, useBias, name);
    }

    /// <inheritdoc />
    protected override void AddPyTorchModules(Dense dense, PyTorchEquivalent.Modules modules)
    {
        modules.AddWeights(dense, PyTorchEquivalent.Invariant($"nn.Linear({dense.InputShape.Features}, {dense.Units}, bias={PyTorchEquivalent.Py(dense.UseBias)})"));
        modules.AddActivation(dense.Activation);
    }

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, Dense dense, Layer? next) =>
        (graph.Activation(graph.Gemm(x, dense), dense.Activation), false);
}
