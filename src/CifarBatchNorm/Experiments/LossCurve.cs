namespace CifarBatchNorm.Experiments;

/// <summary>
/// One run's training loss per step, kept at most <c>200</c> points: each point closes a block of steps.
/// </summary>
/// <param name="HalfLifeSteps">Half-life, in optimizer steps, of the exponential moving average in <paramref name="Smoothed"/>.</param>
/// <param name="Steps">The last step (1-based, over the run) of each block.</param>
/// <param name="Loss">The mean training loss of the block's steps (each step's own loss, not Keras's running mean).</param>
/// <param name="Smoothed">The bias-corrected exponential moving average of the per-step loss at the block's last step.</param>
public sealed record LossCurve(double HalfLifeSteps, IReadOnlyList<int> Steps, IReadOnlyList<double> Loss, IReadOnlyList<double> Smoothed);
