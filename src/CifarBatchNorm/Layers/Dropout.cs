using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Keras <c>Dropout</c>: in training, each value is set to 0 with probability <see cref="Rate"/> and the others are
/// scaled by <c>1 / (1 - rate)</c>, so the expected sum is unchanged; in inference it is the identity. The mask is drawn
/// from torch's generator, so <c>torch.manual_seed</c> repeats it.
/// </summary>
public sealed class Dropout : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="rate">Fraction of the values to drop, in [0, 1]; 1 drops every value (Keras accepts it and outputs zeros).</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>dropout</c>, ...</param>
    public Dropout(double rate, string? name = null) : base(name)
    {
        if (!(rate is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "rate must be in [0, 1] (the fraction of values dropped).");
        }

        Rate = rate;
    }

    /// <summary>Fraction of the values dropped in training.</summary>
    public double Rate { get; }

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape) => inputShape;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        CheckRank(input, InputShape.Rank + 1);
        return !training || Rate == 0 ? input.alias()
            : Rate >= 1 ? zeros_like(input)   // Keras's backends return zeros for rate 1 (no 1 / (1 - rate) scaling)
            : nn.functional.dropout(input, Rate, training: true);
    }
}
