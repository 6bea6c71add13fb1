namespace CifarBatchNorm.Experiments;

/// <summary>Settings of <c>analyze</c>: the landscape and activation-drift measurements per variant.</summary>
public sealed record AnalyzeConfig
{
    /// <summary>The variants to measure. The default value is bn, none.</summary>
    public IReadOnlyList<NormalizationVariant> Variants { get; init; } = [NormalizationVariant.Bn, NormalizationVariant.None];

    /// <summary>
    /// Runs per variant, with seeds <see cref="TrainConfig.Seed"/> + 0, 1, ... (all variants of a seed start from the
    /// same draws). The default value is 3: the report gives each measure's mean and range over the seeds, and counts
    /// the seeds and probes in which one variant is below another.
    /// </summary>
    public int Seeds { get; init; } = 3;

    /// <summary>Probe every N training steps. The default value is 50.</summary>
    public int ProbeEvery { get; init; } = 50;

    /// <summary>Images in the fixed probe batch (the first of the training set). The default value is 256.</summary>
    public int ProbeBatch { get; init; } = 256;

    /// <summary>Training settings (dataset, epochs, batch, learning rate, seed). The default value is the notebook's.</summary>
    public TrainConfig Training { get; init; } = TrainConfig.Notebook;

    /// <summary>Allowed <see cref="Seeds"/>.</summary>
    public static IntRange SeedsRange { get; } = new(1, 100);

    /// <summary>Allowed <see cref="ProbeEvery"/>.</summary>
    public static IntRange ProbeEveryRange { get; } = new(1, 1_000_000);

    /// <summary>Allowed <see cref="ProbeBatch"/>.</summary>
    public static IntRange ProbeBatchRange { get; } = new(2, 4096);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first property out of range.</summary>
    public AnalyzeConfig Validate()
    {
        Training.Validate();
        if (Variants.Count == 0 || Variants.Distinct().Count() != Variants.Count)
        {
            throw ConfigCheck.Invalid($"{nameof(AnalyzeConfig)}.{nameof(Variants)}", "needs one or more distinct variants.");
        }

        ConfigCheck.InRange($"{nameof(AnalyzeConfig)}.{nameof(Seeds)}", Seeds, SeedsRange);
        ConfigCheck.InRange($"{nameof(AnalyzeConfig)}.{nameof(ProbeEvery)}", ProbeEvery, ProbeEveryRange);
        ConfigCheck.InRange($"{nameof(AnalyzeConfig)}.{nameof(ProbeBatch)}", ProbeBatch, ProbeBatchRange);
        return this;
    }
}
