namespace CifarBatchNorm.Experiments;

/// <summary>Percentiles of the input of one ReLU at one training step (Ioffe and Szegedy 2015, Figure 1).</summary>
/// <param name="Step">Global training step (1-based) after which it was measured.</param>
/// <param name="Relu">Index of the ReLU in the model (0 = first).</param>
/// <param name="Layer">Name of the layer whose activation (or input, for an Activation layer) it is.</param>
/// <param name="P15">15th percentile.</param>
/// <param name="P50">Median.</param>
/// <param name="P85">85th percentile.</param>
public sealed record DriftPoint(int Step, int Relu, string Layer, double P15, double P50, double P85)
{
    /// <summary>The seed of the run it was measured in (<c>analyze</c> measures each variant with several seeds).</summary>
    public int Seed { get; init; }
}
