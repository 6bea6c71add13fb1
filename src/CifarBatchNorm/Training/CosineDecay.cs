namespace CifarBatchNorm.Training;

/// <summary>
/// Keras 3 <c>CosineDecay</c> (Loshchilov and Hutter 2017, without restarts): an optional linear warm-up from
/// <see cref="InitialLearningRate"/> to <see cref="WarmupTarget"/> over <see cref="WarmupSteps"/>, then
/// <c>start * ((1 - alpha) * 0.5 * (1 + cos(pi * t / decay_steps)) + alpha)</c> with t capped at decay_steps.
/// </summary>
public sealed class CosineDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialLearningRate">The learning rate at step 0; non-negative.</param>
    /// <param name="decaySteps">Steps of the cosine decay; at least 1.</param>
    /// <param name="alpha">Final learning rate as a fraction of the start, in [0, 1]. The default value is 0.</param>
    /// <param name="warmupTarget">Learning rate reached after the warm-up; <c>null</c> (the default) for no warm-up.</param>
    /// <param name="warmupSteps">Steps of the linear warm-up; at least 0. The default value is 0.</param>
    public CosineDecay(double initialLearningRate, long decaySteps, double alpha = 0, double? warmupTarget = null, long warmupSteps = 0)
    {
        if (!(initialLearningRate >= 0) || !double.IsFinite(initialLearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(initialLearningRate), initialLearningRate, "initialLearningRate must be non-negative and finite.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(decaySteps, 1);
        if (!(alpha is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in [0, 1].");
        }

        if (warmupTarget is double target && (!(target >= 0) || !double.IsFinite(target)))
        {
            throw new ArgumentOutOfRangeException(nameof(warmupTarget), warmupTarget, "warmupTarget must be non-negative and finite.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        InitialLearningRate = initialLearningRate;
        DecaySteps = decaySteps;
        Alpha = alpha;
        WarmupTarget = warmupTarget;
        WarmupSteps = warmupSteps;
    }

    /// <summary>The learning rate at step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>Steps of the cosine decay.</summary>
    public long DecaySteps { get; }

    /// <summary>Final learning rate as a fraction of the start.</summary>
    public double Alpha { get; }

    /// <summary>Learning rate after the warm-up, or <c>null</c>.</summary>
    public double? WarmupTarget { get; }

    /// <summary>Steps of the warm-up.</summary>
    public long WarmupSteps { get; }

    /// <inheritdoc />
    public override double At(long step)
    {
        if (WarmupTarget is not double target)
        {
            return Decay(Math.Min(step, DecaySteps), InitialLearningRate);
        }

        double capped = Math.Min(step, DecaySteps + WarmupSteps);
        return capped < WarmupSteps
            ? InitialLearningRate + ((target - InitialLearningRate) * (capped / WarmupSteps))
            : Decay(capped - WarmupSteps, target);
    }

    private double Decay(double step, double start)
    {
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * step / DecaySteps));
        return start * (((1 - Alpha) * cosine) + Alpha);
    }
}
