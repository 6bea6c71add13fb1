namespace CifarBatchNorm.Experiments;

/// <summary>What <c>analyze</c> measured, per variant.</summary>
/// <param name="Config">The exact settings.</param>
/// <param name="Dataset">The dataset used and why.</param>
/// <param name="Machine">The machine.</param>
/// <param name="Landscape">Landscape probes by variant name, every seed's (each point names its <see cref="LandscapePoint.Seed"/>).</param>
/// <param name="Drift">Activation percentiles by variant name, every seed's.</param>
public sealed record AnalyzeResult(AnalyzeConfig Config, string Dataset, string Machine,
    IReadOnlyDictionary<string, IReadOnlyList<LandscapePoint>> Landscape,
    IReadOnlyDictionary<string, IReadOnlyList<DriftPoint>> Drift)
{
    /// <summary>The name of the dataset used (<c>CIFAR-10</c>, <c>Fashion-MNIST</c>, <c>synthetic</c>), for titles; empty when not recorded.</summary>
    public string DatasetName { get; init; } = "";

    /// <summary>Santurkar et al.'s internal-covariate-shift measure per layer (<see cref="GradientShiftProbe"/>) by variant name, every seed's; empty when not measured.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IcsPoint>> Ics { get; init; } = new Dictionary<string, IReadOnlyList<IcsPoint>>();

    /// <summary>Each run's final accuracy on the test set (what <c>analyze</c> passes to <c>Fit</c> as its validation data), in the order measured.</summary>
    public IReadOnlyList<AnalyzeRun> Runs { get; init; } = [];

    /// <summary>The commit, tool version, machine and exact command that produced it (and the commands that resumed it).</summary>
    public Provenance? Provenance { get; init; }
}
