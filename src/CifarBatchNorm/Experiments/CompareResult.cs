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

    /// <summary>Commit, tool version, machine and exact command that produced the results; <c>null</c> in results written before it was recorded.</summary>
    public Provenance? Provenance { get; init; }

    /// <summary>What the runs validated on after each epoch, in words (a split of the training set, or the test set); empty when not recorded.</summary>
    public string Validation { get; init; } = "";

    /// <summary>The Batch Renormalization clipping schedule per batch size of the grid, in words (<see cref="RenormSchedule"/>); empty without a renorm variant.</summary>
    public IReadOnlyList<string> RenormSchedules { get; init; } = [];
}
