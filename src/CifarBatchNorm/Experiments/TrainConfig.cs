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

    /// <summary>Learning rate (the start of the schedule, when there is one). The default value is 0.001.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>The optimizer. The default value is the notebook's, <see cref="OptimizerKind.Adam"/>.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>How the learning rate changes. The default value is <see cref="LearningRateScheduleKind.Constant"/>.</summary>
    public LearningRateScheduleKind LearningRateSchedule { get; init; } = LearningRateScheduleKind.Constant;

    /// <summary>
    /// Decoupled weight decay (Keras's <c>weight_decay</c>: <c>w -= w * decay * lr</c> each step); <c>null</c> (the
    /// default) is none, except for AdamW, which then uses Keras's 0.004.
    /// </summary>
    public double? WeightDecay { get; init; }

    /// <summary>SGD momentum, in [0, 1] (Keras accepts 1). The default value is 0 (Keras's).</summary>
    public double Momentum { get; init; }

    /// <summary>SGD with Nesterov momentum. The default value is <c>false</c>.</summary>
    public bool Nesterov { get; init; }

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

    /// <summary>How minibatches are filled. The default value is <see cref="Training.BatchSampling.Iid"/> (the notebook's shuffle).</summary>
    public Training.BatchSampling BatchSampling { get; init; } = Training.BatchSampling.Iid;

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
    /// Fraction of the training set held out for validation, taken from its END before any shuffling (Keras's
    /// <c>validation_split</c>); the callbacks (early stopping, learning-rate reduction, best checkpoint) then choose
    /// on it, and the final evaluation stays on the test set. The default value is 0: validate on the test set, as the
    /// notebook does (it passes the test set as <c>validation_data</c>).
    /// </summary>
    public double ValidationSplit { get; init; }

    /// <summary>Augmentation layers put at the model's start, acting only in training. The default value is none (the notebook).</summary>
    public IReadOnlyList<Augmentation> Augment { get; init; } = [];

    /// <summary>
    /// Where to train: <c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (see <see cref="Runtime.DeviceSelector"/>).
    /// The default value is <c>auto</c>: the first CUDA device when usable, else the CPU.
    /// </summary>
    public string Device { get; init; } = Runtime.DeviceSelector.Auto;

    /// <summary>Allowed <see cref="Epochs"/>.</summary>
    public static IntRange EpochsRange { get; } = new(1, 100_000);

    /// <summary>Allowed <see cref="BatchSize"/>.</summary>
    public static IntRange BatchSizeRange { get; } = new(1, 65_536);

    /// <summary>Allowed <see cref="Threads"/>.</summary>
    public static IntRange ThreadsRange { get; } = new(1, 1024);

    /// <summary>Allowed <see cref="TrainLimit"/> and <see cref="TestLimit"/>.</summary>
    public static IntRange LimitRange { get; } = new(1, int.MaxValue);

    /// <summary>Allowed <see cref="EarlyStoppingPatience"/> and <see cref="ReduceLrPatience"/>.</summary>
    public static IntRange PatienceRange { get; } = new(0, 100_000);

    /// <summary>Allowed <see cref="Seed"/> (room is left for the seeds that follow it in a comparison).</summary>
    public static IntRange SeedRange { get; } = new(int.MinValue, int.MaxValue - 100);

    /// <summary>What <see cref="LearningRate"/> allows, in words.</summary>
    public const string LearningRateAllowed = "a number in (0, 10]";

    /// <summary>What <see cref="WeightDecay"/> allows, in words.</summary>
    public const string WeightDecayAllowed = "a non-negative number";

    /// <summary>What <see cref="Momentum"/> allows, in words.</summary>
    public const string MomentumAllowed = "[0, 1]";

    /// <summary>What <see cref="BnMomentum"/> allows, in words.</summary>
    public const string BnMomentumAllowed = "[0, 1)";

    /// <summary>What <see cref="ValidationSplit"/> allows, in words.</summary>
    public const string ValidationSplitAllowed = "[0, 1) (0 validates on the test set)";

    /// <summary>Whether <paramref name="split"/> is an allowed <see cref="ValidationSplit"/>.</summary>
    public static bool IsValidationSplit(double split) => split is >= 0 and < 1;

    /// <summary>Whether <paramref name="learningRate"/> is allowed.</summary>
    public static bool IsLearningRate(double learningRate) => learningRate > 0 && learningRate <= 10 && double.IsFinite(learningRate);

    /// <summary>Whether <paramref name="momentum"/> is allowed.</summary>
    public static bool IsBnMomentum(double momentum) => momentum is >= 0 and < 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first property out of range (<c>ParamName</c> is <c>TrainConfig.Property</c>).</summary>
    public TrainConfig Validate()
    {
        ConfigCheck.InRange($"{nameof(TrainConfig)}.{nameof(Epochs)}", Epochs, EpochsRange);
        ConfigCheck.InRange($"{nameof(TrainConfig)}.{nameof(BatchSize)}", BatchSize, BatchSizeRange);
        ConfigCheck.That(IsLearningRate(LearningRate), $"{nameof(TrainConfig)}.{nameof(LearningRate)}", LearningRate, LearningRateAllowed);
        ConfigCheck.InRange($"{nameof(TrainConfig)}.{nameof(Seed)}", Seed, SeedRange);
        ConfigCheck.InRange($"{nameof(TrainConfig)}.{nameof(Threads)}", Threads, ThreadsRange);
        ConfigCheck.InRange($"{nameof(TrainConfig)}.{nameof(TrainLimit)}", TrainLimit, LimitRange);
        ConfigCheck.InRange($"{nameof(TrainConfig)}.{nameof(TestLimit)}", TestLimit, LimitRange);
        ConfigCheck.That(IsBnMomentum(BnMomentum), $"{nameof(TrainConfig)}.{nameof(BnMomentum)}", BnMomentum, BnMomentumAllowed);
        ConfigCheck.InRange($"{nameof(TrainConfig)}.{nameof(EarlyStoppingPatience)}", EarlyStoppingPatience, PatienceRange);
        ConfigCheck.InRange($"{nameof(TrainConfig)}.{nameof(ReduceLrPatience)}", ReduceLrPatience, PatienceRange);
        ConfigCheck.That(WeightDecay is null || (WeightDecay >= 0 && double.IsFinite(WeightDecay.Value)), $"{nameof(TrainConfig)}.{nameof(WeightDecay)}", WeightDecay ?? 0, WeightDecayAllowed);
        ConfigCheck.That(Momentum is >= 0 and <= 1, $"{nameof(TrainConfig)}.{nameof(Momentum)}", Momentum, MomentumAllowed);
        if ((Momentum > 0 || Nesterov) && Optimizer != OptimizerKind.Sgd)
        {
            throw new ArgumentException(
                $"{nameof(TrainConfig)}.{nameof(Momentum)} and {nameof(TrainConfig)}.{nameof(Nesterov)} apply to the sgd optimizer only; this run uses {Optimizer.ToString().ToLowerInvariant()}.",
                $"{nameof(TrainConfig)}.{nameof(Optimizer)}");
        }

        if (ReduceLrPatience is not null && LearningRateSchedule != LearningRateScheduleKind.Constant)
        {
            throw new ArgumentException(
                $"{nameof(TrainConfig)}.{nameof(ReduceLrPatience)} needs a constant learning rate, not {nameof(TrainConfig)}.{nameof(LearningRateSchedule)} {LearningRateSchedule.ToString().ToLowerInvariant()} (Keras refuses to set a scheduled learning rate too).",
                $"{nameof(TrainConfig)}.{nameof(ReduceLrPatience)}");
        }

        ConfigCheck.That(IsValidationSplit(ValidationSplit), $"{nameof(TrainConfig)}.{nameof(ValidationSplit)}", ValidationSplit, ValidationSplitAllowed);
        if (Augment is null || Augment.Any(a => !Enum.IsDefined(a)))
        {
            throw ConfigCheck.Invalid($"{nameof(TrainConfig)}.{nameof(Augment)}", "must list known augmentations (flip, translate, crop).");
        }

        Runtime.DeviceSelector.Normalize(Device);
        return this;
    }
}
