namespace CifarBatchNorm.Experiments;

/// <summary>One variant's results over its seeds, at one learning rate and batch size (a row of the report's table).</summary>
/// <param name="Variant">Variant name.</param>
/// <param name="FinalAccuracyMean">Mean final test accuracy over seeds.</param>
/// <param name="FinalAccuracyStd">Sample standard deviation of the final test accuracy (0 for one seed).</param>
/// <param name="EpochsToTargetMean">Mean first epoch reaching the target validation accuracy, over the seeds that reached it; <c>null</c> if none did.</param>
/// <param name="SeedsReachingTarget">How many seeds reached the target.</param>
/// <param name="SecondsPerEpoch">Mean training seconds per epoch.</param>
public sealed record VariantSummary(string Variant, double FinalAccuracyMean, double FinalAccuracyStd, double? EpochsToTargetMean,
    int SeedsReachingTarget, double SecondsPerEpoch)
{
    /// <summary>The learning rate of these runs.</summary>
    public double LearningRate { get; init; }

    /// <summary>The batch size of these runs.</summary>
    public int BatchSize { get; init; }

    /// <summary>Seeds run.</summary>
    public int Seeds { get; init; }

    /// <summary>Half-width of the 95% confidence interval of the mean final test accuracy (Student t); <c>NaN</c> for one seed.</summary>
    public double FinalAccuracyCi95 { get; init; }

    /// <summary>Mean over seeds of the best test accuracy of any epoch.</summary>
    public double BestAccuracyMean { get; init; }

    /// <summary>Half-width of the 95% confidence interval of <see cref="BestAccuracyMean"/>.</summary>
    public double BestAccuracyCi95 { get; init; }

    /// <summary>Mean steps to the training-loss target over the seeds that reached it; <c>null</c> if none did.</summary>
    public double? StepsToLossTargetMean { get; init; }

    /// <summary>Half-width of the 95% confidence interval of <see cref="StepsToLossTargetMean"/>.</summary>
    public double StepsToLossTargetCi95 { get; init; }

    /// <summary>Seeds whose training loss reached the target.</summary>
    public int SeedsReachingLossTarget { get; init; }

    /// <summary>Runs whose loss became NaN or infinite.</summary>
    public int DivergedRuns { get; init; }

    /// <summary>Welch's two-sided p-value of the final test accuracy against the <c>none</c> variant at the same learning rate and batch size; <c>NaN</c> when not comparable.</summary>
    public double FinalAccuracyPValueVsNone { get; init; }

    /// <summary>Welch's two-sided p-value of the steps to the loss target against <c>none</c>; a seed that never reached the target counts as the run's total steps.</summary>
    public double StepsPValueVsNone { get; init; }
}
