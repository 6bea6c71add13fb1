namespace CifarBatchNorm.Experiments;

/// <summary>Settings of <c>compare</c>: every variant trained with every seed on the same data.</summary>
public sealed record CompareConfig
{
    /// <summary>The variants to compare. The default value is bn, none, bn-before-relu.</summary>
    public IReadOnlyList<NormalizationVariant> Variants { get; init; } =
        [NormalizationVariant.Bn, NormalizationVariant.None, NormalizationVariant.BnBeforeRelu];

    /// <summary>Seeds per variant (seed = base seed + 0, 1, ...). The default value is 3.</summary>
    public int Seeds { get; init; } = 3;

    /// <summary>
    /// Training settings shared by every run (dataset, epochs, batch size, learning rate, BN momentum, limits,
    /// base seed). The default value is the notebook's.
    /// </summary>
    public TrainConfig Training { get; init; } = TrainConfig.Notebook;

    /// <summary>Validation accuracy that "epochs to target" counts up to. The default value is 0.85.</summary>
    public double TargetAccuracy { get; init; } = 0.85;

    /// <summary>Training loss that "steps to the loss target" counts down to. The default value is 0.5.</summary>
    public double LossTarget { get; init; } = 0.5;

    /// <summary>
    /// Half-life, in optimizer steps, of the exponential moving average of the per-step training loss that "steps to
    /// the loss target" is read from. The default value is 20 (the average then has the noise of a mean over about 58
    /// steps and lags the loss by about 28 steps, alike for every variant).
    /// </summary>
    public double LossHalfLifeSteps { get; init; } = 20;

    /// <summary>Learning rates to run (a grid axis); <c>null</c> (the default) runs <see cref="TrainConfig.LearningRate"/> only.</summary>
    public IReadOnlyList<double>? LearningRates { get; init; }

    /// <summary>Batch sizes to run (a grid axis); <c>null</c> (the default) runs <see cref="TrainConfig.BatchSize"/> only.</summary>
    public IReadOnlyList<int>? BatchSizes { get; init; }

    /// <summary>Which share of the grid this process runs (<c>compare --shard K/N</c>); <c>null</c> (the default) runs all of it.</summary>
    public ShardSpec? Shard { get; init; }

    /// <summary>
    /// The grid's cells in their canonical order (batch size, learning rate, seed, variant), numbered from 0: the order
    /// an unsharded run trains them in and the order <see cref="ShardSpec"/> deals them out by.
    /// </summary>
    public IEnumerable<GridCell> Cells()
    {
        int index = 0;
        foreach (int batchSize in GridBatchSizes)
        {
            foreach (double learningRate in GridLearningRates)
            {
                for (int s = 0; s < Seeds; s++)
                {
                    foreach (var variant in Variants)
                    {
                        yield return new GridCell(index++, variant, Training.Seed + s, learningRate, batchSize);
                    }
                }
            }
        }
    }

    /// <summary>The learning rates the grid runs.</summary>
    public IReadOnlyList<double> GridLearningRates => LearningRates is { Count: > 0 } rates ? rates : [Training.LearningRate];

    /// <summary>The batch sizes the grid runs.</summary>
    public IReadOnlyList<int> GridBatchSizes => BatchSizes is { Count: > 0 } sizes ? sizes : [Training.BatchSize];

    /// <summary>Allowed <see cref="Seeds"/>.</summary>
    public static IntRange SeedsRange { get; } = new(1, 100);

    /// <summary>Whether <paramref name="accuracy"/> is an allowed <see cref="TargetAccuracy"/>: in (0, 1].</summary>
    public static bool IsTargetAccuracy(double accuracy) => accuracy > 0 && accuracy <= 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first property out of range.</summary>
    public CompareConfig Validate()
    {
        Training.Validate();
        if (Variants.Count == 0 || Variants.Distinct().Count() != Variants.Count)
        {
            throw ConfigCheck.Invalid($"{nameof(CompareConfig)}.{nameof(Variants)}",
                $"needs one or more distinct variants, got '{string.Join(",", Variants.Select(ModelPresets.VariantName))}'.");
        }

        ConfigCheck.InRange($"{nameof(CompareConfig)}.{nameof(Seeds)}", Seeds, SeedsRange);
        ConfigCheck.That(IsTargetAccuracy(TargetAccuracy), $"{nameof(CompareConfig)}.{nameof(TargetAccuracy)}", TargetAccuracy, "(0, 1]");
        ConfigCheck.That(LossTarget > 0 && double.IsFinite(LossTarget), $"{nameof(CompareConfig)}.{nameof(LossTarget)}", LossTarget, "a positive number");
        ConfigCheck.That(LossHalfLifeSteps >= 1 && double.IsFinite(LossHalfLifeSteps), $"{nameof(CompareConfig)}.{nameof(LossHalfLifeSteps)}", LossHalfLifeSteps, "a number of steps, at least 1");
        foreach (double rate in GridLearningRates)
        {
            ConfigCheck.That(TrainConfig.IsLearningRate(rate), $"{nameof(CompareConfig)}.{nameof(LearningRates)}", rate, TrainConfig.LearningRateAllowed);
        }

        foreach (int size in GridBatchSizes)
        {
            ConfigCheck.InRange($"{nameof(CompareConfig)}.{nameof(BatchSizes)}", size, TrainConfig.BatchSizeRange);
        }
        return this;
    }
}
