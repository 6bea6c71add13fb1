using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// What <c>evaluation.json</c> of a run folder holds: the final evaluation on the test set, per class, and where the
/// per-epoch validation numbers of <c>history.json</c> came from.
/// </summary>
public sealed record RunEvaluation
{
    /// <summary>The images evaluated, in words: <c>the test set (10,000 images)</c>.</summary>
    public required string EvaluatedOn { get; init; }

    /// <summary>Where <c>val_loss</c> and <c>val_accuracy</c> of the history came from, in words (see <see cref="RunRecord.Validation"/>).</summary>
    public required string Validation { get; init; }

    /// <summary>Mean categorical cross-entropy on the test set.</summary>
    public required double Loss { get; init; }

    /// <summary>Accuracy on the test set.</summary>
    public required double Accuracy { get; init; }

    /// <summary>Test images evaluated.</summary>
    public required int Samples { get; init; }

    /// <summary>The class names, indexed by label: the rows and columns of <see cref="ConfusionMatrix"/>.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Counts of test images, rows true classes and columns predicted classes.</summary>
    public required int[][] ConfusionMatrix { get; init; }

    /// <summary>Per-class counts, precision and recall (the class's accuracy).</summary>
    public required IReadOnlyList<ClassMetrics> Classes { get; init; }

    /// <summary>The confusion matrix as a <see cref="Training.ConfusionMatrix"/>, for tables and plots.</summary>
    public ConfusionMatrix ToConfusionMatrix() => new(ClassNames, ConfusionMatrix);

    /// <summary>Combines a run's evaluation and its confusion matrix into what <c>evaluation.json</c> holds.</summary>
    public static RunEvaluation From(EvaluationResult evaluation, ConfusionMatrix confusion, string validation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(confusion);
        ArgumentNullException.ThrowIfNull(validation);
        return new RunEvaluation
        {
            EvaluatedOn = ValidationSet.TestSet(evaluation.Samples),
            Validation = validation,
            Loss = evaluation.Loss,
            Accuracy = evaluation.Accuracy,
            Samples = evaluation.Samples,
            ClassNames = confusion.ClassNames,
            ConfusionMatrix = confusion.Counts,
            Classes = confusion.PerClass,
        };
    }
}
