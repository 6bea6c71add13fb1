namespace CifarBatchNorm.Experiments;

/// <summary>One variant's results over its seeds, at one learning rate and batch size (a row of the report's table).</summary>
/// <param name="Variant">Variant name.</param>
/// <param name="FinalAccuracyMean">Mean final test accuracy over the seeds that did not diverge.</param>
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

    /// <summary>
    /// Mean over seeds of the test accuracy at the epoch of best validation accuracy; <c>NaN</c> when the runs
    /// validated on the test set (choosing the epoch there would flatter the test accuracy).
    /// </summary>
    public double BestAccuracyMean { get; init; }

    /// <summary>Half-width of the 95% confidence interval of <see cref="BestAccuracyMean"/>.</summary>
    public double BestAccuracyCi95 { get; init; }

    /// <summary>Mean steps to the training-loss target over the seeds that reached it (see <see cref="SeedsReachingLossTarget"/>: k of n); <c>null</c> if none did.</summary>
    public double? StepsToLossTargetMean { get; init; }

    /// <summary>Half-width of the 95% confidence interval of <see cref="StepsToLossTargetMean"/>.</summary>
    public double StepsToLossTargetCi95 { get; init; }

    /// <summary>Seeds whose training loss reached the target.</summary>
    public int SeedsReachingLossTarget { get; init; }

    /// <summary>Runs whose loss became NaN or infinite.</summary>
    public int DivergedRuns { get; init; }

    /// <summary>Paired t-test p-value of the final test accuracy against the <c>none</c> variant over the same seeds, at the same learning rate and batch size; <c>NaN</c> when not testable.</summary>
    public double FinalAccuracyPValueVsNone { get; init; }

    /// <summary>Exact signed-rank p-value of the steps to the loss target against <c>none</c> over the same seeds, runs that never reached it censored and ranked slowest (<see cref="Statistics.CensoredPaired"/>); <c>NaN</c> when not testable.</summary>
    public double StepsPValueVsNone { get; init; }
}
