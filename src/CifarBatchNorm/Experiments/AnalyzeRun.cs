namespace CifarBatchNorm.Experiments;

/// <summary>One training run of <c>analyze</c>: a variant at a seed.</summary>
/// <param name="Variant">The variant's name.</param>
/// <param name="Seed">The seed that drew its weights and shuffles.</param>
/// <param name="FinalTestAccuracy">Accuracy on the test set after the last epoch.</param>
public sealed record AnalyzeRun(string Variant, int Seed, double FinalTestAccuracy);
