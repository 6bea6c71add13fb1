using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>What a finished run produced.</summary>
/// <param name="Folder">The run folder.</param>
/// <param name="History">Per-epoch metrics.</param>
/// <param name="Evaluation">The final evaluation on the test set.</param>
/// <param name="Record">What config.json holds.</param>
public sealed record RunResult(string Folder, History History, EvaluationResult Evaluation, RunRecord Record)
{
    /// <summary>The final evaluation per class, with the confusion matrix (what <c>evaluation.json</c> holds).</summary>
    public RunEvaluation? Details { get; init; }

    /// <summary>
    /// One line of advice when the run looks broken though it is only short, else <c>null</c>: on a model with batch
    /// normalization, the last validation accuracy ended more than 0.2 below the training accuracy and below 0.5
    /// (the moving statistics have not caught up). It names <c>TrainConfig.BnMomentum</c>; the defaults never change.
    /// </summary>
    public string? Advice { get; init; }
}
