namespace CifarBatchNorm.Training;

/// <summary>
/// Keras 3 <c>ExponentialDecay</c>: <c>initial * decay_rate ^ (step / decay_steps)</c>, the exponent floored when
/// <see cref="Staircase"/>.
/// </summary>
public sealed class ExponentialDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialLearningRate">The learning rate at step 0; positive.</param>
    /// <param name="decaySteps">Steps per decay period; at least 1.</param>
    /// <param name="decayRate">Factor per period; positive.</param>
    /// <param name="staircase">Decay in whole periods. The default value is <c>false</c>.</param>
    public ExponentialDecay(double initialLearningRate, long decaySteps, double decayRate, bool staircase = false)
    {
        if (!(initialLearningRate > 0) || !double.IsFinite(initialLearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(initialLearningRate), initialLearningRate, "initialLearningRate must be positive and finite.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(decaySteps, 1);
        if (!(decayRate > 0) || !double.IsFinite(decayRate))
        {
            throw new ArgumentOutOfRangeException(nameof(decayRate), decayRate, "decayRate must be positive and finite.");
        }

        InitialLearningRate = initialLearningRate;
        DecaySteps = decaySteps;
        DecayRate = decayRate;
        Staircase = staircase;
    }

    /// <summary>The learning rate at step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>Steps per decay period.</summary>
    public long DecaySteps { get; }

    /// <summary>Factor per period.</summary>
    public double DecayRate { get; }

    /// <summary>Whether the exponent is floored.</summary>
    public bool Staircase { get; }

    /// <inheritdoc />
    public override double At(long step)
    {
        double p = (double)step / DecaySteps;
        return InitialLearningRate * Math.Pow(DecayRate, Staircase ? Math.Floor(p) : p);
    }
}
