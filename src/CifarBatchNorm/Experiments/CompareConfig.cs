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

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public CompareConfig Validate()
    {
        Training.Validate();
        if (Variants.Count == 0 || Variants.Distinct().Count() != Variants.Count)
        {
            throw new ArgumentException($"--variants needs one or more distinct variants, got '{string.Join(",", Variants.Select(ModelPresets.VariantName))}'.");
        }

        if (Seeds is < 1 or > 100)
        {
            throw new ArgumentException($"--seeds {Seeds} is out of range: expected 1 to 100.");
        }

        if (!(TargetAccuracy > 0 && TargetAccuracy <= 1))
        {
            throw new ArgumentException($"--target-accuracy {TargetAccuracy} is out of range: expected (0, 1].");
        }

        return this;
    }
}
