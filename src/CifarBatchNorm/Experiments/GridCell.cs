namespace CifarBatchNorm.Experiments;

/// <summary>One run of a comparison's grid.</summary>
/// <param name="Index">Position in the canonical order, from 0.</param>
/// <param name="Variant">The variant.</param>
/// <param name="Seed">The seed.</param>
/// <param name="LearningRate">The learning rate.</param>
/// <param name="BatchSize">The batch size.</param>
public sealed record GridCell(int Index, NormalizationVariant Variant, int Seed, double LearningRate, int BatchSize);
