namespace CifarBatchNorm.Experiments;

/// <summary>One landscape probe (Santurkar et al. 2018), taken at a training step along the current gradient g.</summary>
/// <param name="Step">Global training step (1-based) after which the probe ran.</param>
/// <param name="Loss">Loss L(w) on the probe batch.</param>
/// <param name="LossMin">Minimum of L(w - eta g) over the step sizes (and eta = 0).</param>
/// <param name="LossMax">Maximum of the same: LossMax - LossMin is the loss variation.</param>
/// <param name="GradientChangeMin">Minimum over the step sizes of ||grad L(w) - grad L(w - eta g)||.</param>
/// <param name="GradientChangeMax">Maximum of the same (gradient predictiveness: smaller is more predictive).</param>
/// <param name="BetaSmoothness">Effective beta-smoothness: max over the step sizes of ||grad change|| / ||eta g||.</param>
/// <param name="GradientNorm">||g||.</param>
public sealed record LandscapePoint(int Step, double Loss, double LossMin, double LossMax, double GradientChangeMin,
    double GradientChangeMax, double BetaSmoothness, double GradientNorm)
{
    /// <summary>The seed of the run it was measured in (<c>analyze</c> measures each variant with several seeds).</summary>
    public int Seed { get; init; }
}
