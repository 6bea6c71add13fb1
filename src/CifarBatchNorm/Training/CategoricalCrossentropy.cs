using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// Keras <c>categorical_crossentropy</c>: the mean over the batch of <c>-log p[label]</c>. Labels are class
/// indices (Keras's one-hot <c>to_categorical</c> vectors carry the same information). When the model ends in
/// softmax the loss is computed from the logits before it, as Keras does internally: same value, no overflow.
/// </summary>
public sealed class CategoricalCrossentropy
{
    /// <summary>Clip applied to probabilities that do not come from a softmax (Keras's epsilon).</summary>
    public const double ProbabilityEpsilon = 1e-7;

    /// <summary>Creates the loss.</summary>
    /// <param name="fromLogits">Whether the model's outputs are logits (no final softmax). The default value is <c>false</c>.</param>
    /// <param name="labelSmoothing">
    /// Keras's <c>label_smoothing</c>, in [0, 1]: the one-hot targets become <c>y * (1 - s) + s / classes</c>. The
    /// default value is 0.
    /// </param>
    public CategoricalCrossentropy(bool fromLogits = false, double labelSmoothing = 0)
    {
        if (!(labelSmoothing is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "labelSmoothing must be in [0, 1].");
        }

        FromLogits = fromLogits;
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>Whether the model's raw outputs are logits.</summary>
    public bool FromLogits { get; }

    /// <summary>Label smoothing.</summary>
    public double LabelSmoothing { get; }

    /// <summary>Keras's name.</summary>
    public static string KerasName => "categorical_crossentropy";

    /// <summary>Mean cross-entropy of a batch.</summary>
    /// <param name="output">(N, classes): logits when <paramref name="outputIsLogits"/>, else probabilities.</param>
    /// <param name="outputIsLogits">Whether <paramref name="output"/> holds logits.</param>
    /// <param name="labels">(N) int64 class indices.</param>
    /// <param name="labelSmoothing">Label smoothing in [0, 1]. The default value is 0.</param>
    public static Tensor Compute(Tensor output, bool outputIsLogits, Tensor labels, double labelSmoothing = 0)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(labels);
        if (outputIsLogits)
        {
            // -sum(y_smooth * log_softmax): the same formula as Keras's smoothed one-hot targets.
            return nn.functional.cross_entropy(output, labels, label_smoothing: labelSmoothing);
        }

        using var normalized = output / output.sum(1, keepdim: true);
        using var clipped = normalized.clamp(ProbabilityEpsilon, 1 - ProbabilityEpsilon);
        using var log = clipped.log();
        if (labelSmoothing == 0)
        {
            return nn.functional.nll_loss(log, labels);
        }

        long classes = output.shape[1];
        using var oneHot = nn.functional.one_hot(labels, classes).to_type(log.dtype);
        using var targets = (oneHot * (1 - labelSmoothing)) + (labelSmoothing / classes);
        return -(targets * log).sum(1).mean();
    }
}
