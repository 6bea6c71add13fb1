namespace CifarBatchNorm.Experiments;

/// <summary>
/// Santurkar et al.'s "internal covariate shift" of one layer at one step (arXiv 1805.11604, section 2): how much the
/// gradient of the layer's weights changes when only the layers before it take the step's update.
/// </summary>
/// <param name="Step">Global training step (1-based) whose update was measured.</param>
/// <param name="LayerIndex">Index of the layer among the model's Conv2D and Dense layers (0 = first).</param>
/// <param name="Layer">The layer's name.</param>
/// <param name="Change">||G - G'||, the L2 norm of the difference of the two gradients.</param>
/// <param name="RelativeChange">||G - G'|| / ||G|| (0 when G is 0).</param>
/// <param name="Cosine">cos(G, G') (1 when either is 0).</param>
public sealed record IcsPoint(int Step, int LayerIndex, string Layer, double Change, double RelativeChange, double Cosine)
{
    /// <summary>The seed of the run it was measured in (<c>analyze</c> measures each variant with several seeds).</summary>
    public int Seed { get; init; }
}
