using CifarBatchNorm.Runtime;

namespace CifarBatchNorm.Experiments;

/// <summary>What <c>config.json</c> of a run folder holds: the exact config, the data and the machine.</summary>
public sealed record RunRecord
{
    /// <summary>The config the run used.</summary>
    public required TrainConfig Config { get; init; }

    /// <summary>The dataset actually used (auto resolved).</summary>
    public required string Dataset { get; init; }

    /// <summary>Folder the data came from; <c>null</c> for synthetic data.</summary>
    public string? DataLocation { get; init; }

    /// <summary>Why this dataset was chosen.</summary>
    public required string DatasetReason { get; init; }

    /// <summary>Image shape as height, width, channels.</summary>
    public required int[] InputShape { get; init; }

    /// <summary>Number of classes.</summary>
    public required int Classes { get; init; }

    /// <summary>Training images used.</summary>
    public required int TrainSamples { get; init; }

    /// <summary>Test images used.</summary>
    public required int TestSamples { get; init; }

    /// <summary>
    /// Where the per-epoch validation numbers (<c>val_loss</c>, <c>val_accuracy</c>, and the callbacks that watch
    /// them) come from, in words: <c>the test set (10,000 images)</c> or <c>last 10% of the training set (5,000
    /// images; training on the first 45,000)</c>. The final evaluation is always on the test set.
    /// </summary>
    public string? Validation { get; init; }

    /// <summary>Images validated on after every epoch.</summary>
    public int ValidationSamples { get; init; }

    /// <summary>Runtime settings in force.</summary>
    public RuntimeSettings? Runtime { get; init; }

    /// <summary>How the model executed (<see cref="Training.ExecutionPolicy"/>: device, layouts, collection cadence).</summary>
    public string? Execution { get; init; }

    /// <summary>Library version.</summary>
    public required string Version { get; init; }

    /// <summary>
    /// The CPU model. The same seed gives the same numbers on the same CPU, not across CPU models (their vector kernels
    /// round differently): compare runs by this field.
    /// </summary>
    public string? CpuModel { get; init; }

    /// <summary>Machine: OS, cores, TorchSharp backend.</summary>
    public required string Machine { get; init; }

    /// <summary>Start of the run, UTC.</summary>
    public DateTimeOffset StartedUtc { get; init; }

    /// <summary>The commit, version, machine and exact command that made the run; <c>null</c> in runs recorded before it was.</summary>
    public Provenance? Provenance { get; init; }
}
