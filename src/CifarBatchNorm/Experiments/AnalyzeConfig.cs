namespace CifarBatchNorm.Experiments;

/// <summary>Settings of <c>analyze</c>: the landscape and activation-drift measurements per variant.</summary>
public sealed record AnalyzeConfig
{
    /// <summary>The variants to measure. The default value is bn, none.</summary>
    public IReadOnlyList<NormalizationVariant> Variants { get; init; } = [NormalizationVariant.Bn, NormalizationVariant.None];

    /// <summary>Probe every N training steps. The default value is 50.</summary>
    public int ProbeEvery { get; init; } = 50;

    /// <summary>Images in the fixed probe batch (the first of the training set). The default value is 256.</summary>
    public int ProbeBatch { get; init; } = 256;

    /// <summary>Training settings (dataset, epochs, batch, learning rate, seed). The default value is the notebook's.</summary>
    public TrainConfig Training { get; init; } = TrainConfig.Notebook;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public AnalyzeConfig Validate()
    {
        Training.Validate();
        if (Variants.Count == 0 || Variants.Distinct().Count() != Variants.Count)
        {
            throw new ArgumentException("--variants needs one or more distinct variants.");
        }

        if (ProbeEvery is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"--probe-every {ProbeEvery} is out of range: expected 1 to 1000000.");
        }

        if (ProbeBatch is < 2 or > 4096)
        {
            throw new ArgumentException($"--probe-batch {ProbeBatch} is out of range: expected 2 to 4096.");
        }

        return this;
    }
}
