namespace CifarBatchNorm.Experiments;

/// <summary>What <c>compare</c> produced: every epoch of every run, the per-variant summaries, and the files.</summary>
/// <param name="Config">The exact settings.</param>
/// <param name="Dataset">The dataset used and why.</param>
/// <param name="Machine">The machine.</param>
/// <param name="Epochs">Every (variant, seed, epoch) row.</param>
/// <param name="Summaries">One summary per variant, learning rate and batch size, in the configured order.</param>
public sealed record CompareResult(CompareConfig Config, string Dataset, string Machine, IReadOnlyList<EpochResult> Epochs, IReadOnlyList<VariantSummary> Summaries)
{
    /// <summary>How every run ended (steps to the loss target, divergence).</summary>
    public IReadOnlyList<RunOutcome> Runs { get; init; } = [];

    /// <summary>The name of the dataset used (<c>CIFAR-10</c>, <c>Fashion-MNIST</c>, <c>synthetic</c>), for titles; empty when not recorded.</summary>
    public string DatasetName { get; init; } = "";

    /// <summary>The dataset's class names, in label order (for the confusion matrix); empty when not recorded.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];
}
