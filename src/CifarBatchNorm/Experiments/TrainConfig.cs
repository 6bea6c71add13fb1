namespace CifarBatchNorm.Experiments;

/// <summary>
/// Everything a training run depends on. Immutable; a run writes the exact config it ran with to
/// <c>config.json</c>. <see cref="Notebook"/> holds the notebook's settings.
/// </summary>
public sealed record TrainConfig
{
    /// <summary>The notebook's settings: Adam 1e-3, batch 256, 10 epochs, BN after ReLU with momentum 0.99.</summary>
    public static TrainConfig Notebook { get; } = new();

    /// <summary>Which dataset. The default value is <see cref="DatasetKind.Auto"/>.</summary>
    public DatasetKind Dataset { get; init; } = DatasetKind.Auto;

    /// <summary>Folder to look for data in; <c>null</c> uses the default locations.</summary>
    public string? DataDir { get; init; }

    /// <summary>Download CIFAR-10 when it is missing (<see cref="DatasetKind.Cifar10"/> and <see cref="DatasetKind.Auto"/>). The default value is <c>true</c>.</summary>
    public bool Download { get; init; } = true;

    /// <summary>Mirror of the CIFAR-10 tarball; <c>null</c> (the default) uses <c>CIFAR_BATCHNORM_URL</c> or the official address.</summary>
    public string? DownloadUrl { get; init; }

    /// <summary>Epochs. The default value is 10.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per step. The default value is 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam learning rate. The default value is 0.001.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Seed of weight initialisation and shuffling (and of the synthetic set). The default value is 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Intra-op threads; <c>null</c> (the default) uses every core.</summary>
    public int? Threads { get; init; }

    /// <summary>Use only the first N training images; <c>null</c> (the default) uses all.</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Use only the first N test images; <c>null</c> (the default) uses all.</summary>
    public int? TestLimit { get; init; }

    /// <summary>Normalization placement. The default value is the notebook's (<see cref="NormalizationVariant.Bn"/>).</summary>
    public NormalizationVariant Variant { get; init; } = NormalizationVariant.Bn;

    /// <summary>Keras momentum of the BN moving statistics. The default value is 0.99.</summary>
    public double BnMomentum { get; init; } = 0.99;

    /// <summary>Stop after this many epochs without val_loss improvement (restoring the best weights); <c>null</c> (the default) never stops early.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>Divide the learning rate by 10 after this many epochs without val_loss improvement; <c>null</c> (the default) keeps it.</summary>
    public int? ReduceLrPatience { get; init; }

    /// <summary>Also keep <c>best.pt</c>, the weights of the epoch with the best val_accuracy. The default value is <c>false</c>.</summary>
    public bool CheckpointBest { get; init; }

    /// <summary>Write TensorBoard event files to this folder; <c>null</c> (the default) writes none.</summary>
    public string? TensorBoardDir { get; init; }

    /// <summary>
    /// Where to train: <c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (see <see cref="Runtime.DeviceSelector"/>).
    /// The default value is <c>auto</c>: the first CUDA device when usable, else the CPU.
    /// </summary>
    public string Device { get; init; } = Runtime.DeviceSelector.Auto;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public TrainConfig Validate()
    {
        Check(Epochs is >= 1 and <= 100_000, "epochs", Epochs, "1 to 100000");
        Check(BatchSize is >= 1 and <= 65_536, "batch-size", BatchSize, "1 to 65536");
        Check(LearningRate > 0 && LearningRate <= 10 && double.IsFinite(LearningRate), "learning-rate", LearningRate, "a number in (0, 10]");
        Check(Threads is null or (>= 1 and <= 1024), "threads", Threads, "1 to 1024");
        Check(TrainLimit is null or >= 1, "train-limit", TrainLimit, "at least 1");
        Check(TestLimit is null or >= 1, "test-limit", TestLimit, "at least 1");
        Check(BnMomentum is >= 0 and < 1, "bn-momentum", BnMomentum, "[0, 1)");
        Check(EarlyStoppingPatience is null or (>= 0 and <= 100_000), "early-stopping-patience", EarlyStoppingPatience, "0 to 100000");
        Check(ReduceLrPatience is null or (>= 0 and <= 100_000), "reduce-lr-patience", ReduceLrPatience, "0 to 100000");
        Runtime.DeviceSelector.Normalize(Device);
        return this;
    }

    private static void Check(bool ok, string name, object? value, string allowed)
    {
        if (!ok)
        {
            throw new ArgumentException($"--{name} {value} is out of range: expected {allowed}.");
        }
    }
}
