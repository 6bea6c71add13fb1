using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Keras <c>Flatten</c>: (N, C, H, W) to (N, C*H*W). The element order is TorchSharp's channel-major one
/// (Keras flattens (H, W, C)); sizes and parameter counts are the same.
/// </summary>
public sealed class Flatten : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>flatten</c>, ...</param>
    public Flatten(string? name = null) : base(name)
    {
    }

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape) => new(checked((int)inputShape.Size));

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => input.flatten(1);
}
