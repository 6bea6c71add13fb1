namespace CifarBatchNorm.Experiments;

/// <summary>How one run of a comparison ended (one cell of the grid: variant, seed, learning rate, batch size).</summary>
/// <param name="Variant">Variant name.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="LearningRate">The run's learning rate.</param>
/// <param name="BatchSize">The run's batch size.</param>
/// <param name="StepsToLossTarget">
/// The first optimizer step (counted over the whole run) at which the training loss, as Keras reports it (the running
/// mean over the epoch so far), reached <see cref="CompareConfig.LossTarget"/>; <c>null</c> if it never did.
/// </param>
/// <param name="Diverged">Whether the loss became NaN or infinite (the run stopped there; its finished epochs are kept).</param>
/// <param name="Message">What happened, for people: the divergence's epoch and step, or "complete".</param>
/// <param name="TotalSteps">Optimizer steps the run took (what a run that never reached the target counts as in the steps test).</param>
public sealed record RunOutcome(string Variant, int Seed, double LearningRate, int BatchSize, int? StepsToLossTarget, bool Diverged, string Message, int TotalSteps = 0)
{
    /// <summary>
    /// The run's confusion matrix on the test set after its last epoch (rows: true class, columns: predicted class),
    /// or <c>null</c> (a diverged run, or results written before it was recorded).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<int>>? Confusion { get; init; }
}
