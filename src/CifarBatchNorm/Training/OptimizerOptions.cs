namespace CifarBatchNorm.Training;

/// <summary>The options every Keras 3 optimizer takes: gradient clipping and decoupled weight decay. Each is off by default.</summary>
public sealed record OptimizerOptions
{
    /// <summary>Decoupled weight decay (Keras <c>weight_decay</c>): <c>w -= w * weight_decay * lr</c> before each update; non-negative. The default value is <c>null</c> (none).</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Clip each gradient to this norm (Keras <c>clipnorm</c>); positive. The default value is <c>null</c>.</summary>
    public double? ClipNorm { get; init; }

    /// <summary>Clip each gradient element to [-value, value] (Keras <c>clipvalue</c>); positive. The default value is <c>null</c>.</summary>
    public double? ClipValue { get; init; }

    /// <summary>Clip all gradients together to this global norm (Keras <c>global_clipnorm</c>); positive. The default value is <c>null</c>.</summary>
    public double? GlobalClipNorm { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range; Keras allows one clipping option at a time.</summary>
    public OptimizerOptions Validate()
    {
        Check(WeightDecay is null or >= 0 && (WeightDecay is null || double.IsFinite(WeightDecay.Value)), nameof(WeightDecay), WeightDecay, "a non-negative number");
        Check(ClipNorm is null or > 0, nameof(ClipNorm), ClipNorm, "a positive number");
        Check(ClipValue is null or > 0, nameof(ClipValue), ClipValue, "a positive number");
        Check(GlobalClipNorm is null or > 0, nameof(GlobalClipNorm), GlobalClipNorm, "a positive number");
        if (new[] { ClipNorm, ClipValue, GlobalClipNorm }.Count(v => v is not null) > 1)
        {
            throw new ArgumentException("Only one of ClipNorm, ClipValue and GlobalClipNorm can be set (as in Keras).", nameof(ClipNorm));
        }

        return this;
    }

    private static void Check(bool ok, string name, double? value, string allowed)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be {allowed}, got {value}.");
        }
    }
}
