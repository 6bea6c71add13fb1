namespace CifarBatchNorm.Experiments;

/// <summary>How one run of a comparison ended (one cell of the grid: variant, seed, learning rate, batch size).</summary>
/// <param name="Variant">Variant name.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="LearningRate">The run's learning rate.</param>
/// <param name="BatchSize">The run's batch size.</param>
/// <param name="StepsToLossTarget">
/// The optimizer step (counted over the whole run, interpolated between steps) at which the exponential moving
/// average of the per-step training loss (half-life <see cref="CompareConfig.LossHalfLifeSteps"/>) reached
/// <see cref="CompareConfig.LossTarget"/>; <c>null</c> if it never did (censored: the run ended, or diverged, first).
/// </param>
/// <param name="Diverged">Whether the loss became NaN or infinite (the run stopped there; its finished epochs are kept).</param>
/// <param name="Message">What happened, for people: the divergence's epoch and step, or "complete".</param>
/// <param name="TotalSteps">Optimizer steps the run took (where a run that never reached the target was censored).</param>
public sealed record RunOutcome(string Variant, int Seed, double LearningRate, int BatchSize, double? StepsToLossTarget, bool Diverged, string Message, int TotalSteps = 0)
{
    /// <summary>The step at which the training loss became NaN or infinite, or <c>null</c>.</summary>
    public int? DivergedAtStep { get; init; }

    /// <summary>The run's training loss per step, downsampled, with its moving average; <c>null</c> in results written before it was recorded.</summary>
    public LossCurve? LossCurve { get; init; }

    /// <summary>
    /// The run's confusion matrix on the test set after its last epoch (rows: true class, columns: predicted class),
    /// or <c>null</c> (a diverged run, or results written before it was recorded).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<int>>? Confusion { get; init; }
}
