namespace CifarBatchNorm.Experiments;

/// <summary>One variant's results over its seeds (a row of the report's table).</summary>
/// <param name="Variant">Variant name.</param>
/// <param name="FinalAccuracyMean">Mean final test accuracy over seeds.</param>
/// <param name="FinalAccuracyStd">Sample standard deviation of the final test accuracy (0 for one seed).</param>
/// <param name="EpochsToTargetMean">Mean first epoch reaching the target validation accuracy, over the seeds that reached it; <c>null</c> if none did.</param>
/// <param name="SeedsReachingTarget">How many seeds reached the target.</param>
/// <param name="SecondsPerEpoch">Mean training seconds per epoch.</param>
public sealed record VariantSummary(string Variant, double FinalAccuracyMean, double FinalAccuracyStd, double? EpochsToTargetMean,
    int SeedsReachingTarget, double SecondsPerEpoch);
