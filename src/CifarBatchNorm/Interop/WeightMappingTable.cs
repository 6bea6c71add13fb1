using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop;

/// <summary>
/// The one table that says which variables each layer type has in Keras, in this library's state dict and in
/// PyTorch, in Keras's order (Keras 3 files store them by position). Every format goes through it.
/// </summary>
internal static class WeightMappingTable
{
    private static readonly VariableMapping[] ConvWithBias =
    [
        new("kernel", "conv.weight", "weight", WeightLayout.ConvKernel),
        new("bias", "conv.bias", "bias", WeightLayout.Vector),
    ];

    private static readonly VariableMapping[] DenseWithBias =
    [
        new("kernel", "linear.weight", "weight", WeightLayout.DenseKernel),
        new("bias", "linear.bias", "bias", WeightLayout.Vector),
    ];

    private static readonly VariableMapping[] BatchNorm =
    [
        new("gamma", "bn.weight", "weight", WeightLayout.Vector),
        new("beta", "bn.bias", "bias", WeightLayout.Vector),
        new("moving_mean", "bn.running_mean", "running_mean", WeightLayout.Vector),
        new("moving_variance", "bn.running_var", "running_var", WeightLayout.Vector),
    ];

    // Keras 3 BatchNormalization(renorm=True) creates gamma, beta, moving_mean, moving_variance, moving_stddev,
    // renorm_mean, renorm_stddev, in that order. PyTorch has no renorm module: its BatchNorm2d gets the inference
    // statistics, which is all inference uses.
    private static VariableMapping[] Renorm(double epsilon) =>
    [
        new("gamma", "gamma", "weight", WeightLayout.Vector),
        new("beta", "beta", "bias", WeightLayout.Vector),
        new("moving_mean", "moving_mean", "running_mean", WeightLayout.Vector),
        new("moving_variance", "moving_variance", "running_var", WeightLayout.Vector),
        new("moving_stddev", "moving_stddev", null, WeightLayout.Vector,
            state => state["moving_variance"].Select(v => MathF.Sqrt(v + (float)epsilon)).ToArray()),
        new("renorm_mean", "renorm_mean", null, WeightLayout.Vector),
        new("renorm_stddev", "renorm_stddev", null, WeightLayout.Vector),
    ];

    /// <summary>The variables of <paramref name="layer"/> in Keras's order; empty for layers without weights.</summary>
    /// <exception cref="NotSupportedException">A layer type that has weights but no entry here.</exception>
    public static IReadOnlyList<VariableMapping> For(Layer layer) => layer switch
    {
        Conv2D conv => conv.UseBias ? ConvWithBias : ConvWithBias[..1],
        Dense dense => dense.UseBias ? DenseWithBias : DenseWithBias[..1],
        BatchNormalization => BatchNorm,
        BatchRenormalization renorm => Renorm(renorm.Epsilon),
        Flatten or MaxPooling2D or Activation or Dropout or RandomFlip or RandomTranslation or RandomCrop => [],
        _ => throw new NotSupportedException($"Layer '{layer.Name}' of type {layer.KerasType} has no entry in the weight mapping table."),
    };

    /// <summary>Keras's class name for the layer (Batch Renormalization is Keras's <c>BatchNormalization(renorm=True)</c>).</summary>
    public static string KerasClassName(Layer layer) => layer is BatchRenormalization ? "BatchNormalization" : layer.KerasType;
}
