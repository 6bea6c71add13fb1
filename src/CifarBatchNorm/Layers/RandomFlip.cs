using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Keras 3 <c>RandomFlip</c>: in training, flips each image with probability 1/2; at inference it is the identity.
/// </summary>
/// <remarks>
/// Per image one draw u ~ U[0, 1) decides: the image is flipped when u &lt;= 0.5. With
/// <see cref="FlipMode.HorizontalAndVertical"/> that one draw flips both axes or neither, as in Keras. The draws
/// come from torch's default generator (seed it with <c>torch.manual_seed</c>) unless the layer has its own
/// <c>seed</c>. Training mode is the module's (<c>model.train()</c>/<c>model.eval()</c>), which <c>Fit</c>,
/// <c>Evaluate</c> and <c>Predict</c> set. The layer has no weights.
/// </remarks>
public sealed class RandomFlip : Layer
{
    private readonly AugmentationRandom _random;

    /// <summary>Creates the layer.</summary>
    /// <param name="mode">Which axes to flip. The default value is <see cref="FlipMode.HorizontalAndVertical"/> (Keras's).</param>
    /// <param name="seed">Seed of the layer's own generator; <c>null</c> (the default) draws from torch's default generator.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>random_flip</c>, ...</param>
    public RandomFlip(FlipMode mode = FlipMode.HorizontalAndVertical, int? seed = null, string? name = null) : base(name)
    {
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "RandomFlip mode must be Horizontal, Vertical or HorizontalAndVertical.");
        }

        Mode = mode;
        _random = new AugmentationRandom(seed);
    }

    /// <summary>Which axes are flipped.</summary>
    public FlipMode Mode { get; }

    /// <summary>The layer's own seed; <c>null</c> when it draws from torch's default generator.</summary>
    public int? Seed => _random.Seed;

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape) => AugmentationShapes.RequireImage(this, inputShape);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        CheckRank(input, 4);                                                // (B, C, H, W)
        if (!training)
        {
            return input.alias();
        }

        using var draws = _random.Uniform(input.shape[0]);
        using var flips = draws.le(0.5).view(-1, 1, 1, 1).to(input.device); // (B, 1, 1, 1)
        var output = input;
        if (Mode is FlipMode.Horizontal or FlipMode.HorizontalAndVertical)
        {
            output = where(flips, output.flip(3), output);
        }

        if (Mode is FlipMode.Vertical or FlipMode.HorizontalAndVertical)
        {
            output = where(flips, output.flip(2), output);
        }

        return output;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _random.Dispose();
        }

        base.Dispose(disposing);
    }
}
