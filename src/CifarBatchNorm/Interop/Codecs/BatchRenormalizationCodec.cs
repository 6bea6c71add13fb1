using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary>
/// <see cref="BatchRenormalization"/> in every format: Keras <c>BatchNormalization(renorm=True)</c> (read by
/// <see cref="BatchNormalizationCodec"/>), and at inference, which is plain batch normalization with the moving
/// statistics, PyTorch <c>nn.BatchNorm1d/2d</c> and ONNX <c>BatchNormalization</c>.
/// </summary>
internal sealed class BatchRenormalizationCodec : LayerCodec<BatchRenormalization>
{
    /// <inheritdoc />
    public override string KerasClassName(Layer layer) => "BatchNormalization";

    /// <inheritdoc />
    public override bool TracksBatches => true;

    /// <inheritdoc />
    public override double? FoldableEpsilon(Layer layer) => ((BatchRenormalization)layer).Epsilon;

    // Keras 3 BatchNormalization(renorm=True) creates gamma, beta, moving_mean, moving_variance, moving_stddev,
    // renorm_mean, renorm_stddev, in that order. PyTorch has no renorm module: its BatchNorm2d gets the inference
    // statistics, which is all inference uses.
    /// <inheritdoc />
    protected override IReadOnlyList<VariableMapping> Variables(BatchRenormalization layer) =>
    [
        new("gamma", "gamma", "weight", WeightLayout.Vector),
        new("beta", "beta", "bias", WeightLayout.Vector),
        new("moving_mean", "moving_mean", "running_mean", WeightLayout.Vector),
        new("moving_variance", "moving_variance", "running_var", WeightLayout.Vector),
        new("moving_stddev", "moving_stddev", null, WeightLayout.Vector,
            state => state["moving_variance"].Select(v => MathF.Sqrt(v + (float)layer.Epsilon)).ToArray()),
        new("renorm_mean", "renorm_mean", null, WeightLayout.Vector),
        new("renorm_stddev", "renorm_stddev", null, WeightLayout.Vector),
    ];

    /// <inheritdoc />
    protected override void WriteKerasConfig(BatchRenormalization renorm, JsonObject config) =>
        BatchNormalizationCodec.AddBatchNorm(config, renorm.Momentum, renorm.Epsilon, renorm);

    /// <inheritdoc />
    protected override void AddPyTorchModules(BatchRenormalization renorm, PyTorchEquivalent.Modules modules) =>
        modules.AddWeights(renorm, PyTorchEquivalent.BatchNorm(renorm.InputShape, renorm.Epsilon, renorm.Momentum));

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, BatchRenormalization renorm, Layer? next) =>
        (graph.BatchNorm(x, renorm, renorm.Epsilon), false);
}
