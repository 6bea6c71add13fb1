using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>What a finished run produced.</summary>
/// <param name="Folder">The run folder.</param>
/// <param name="History">Per-epoch metrics.</param>
/// <param name="Evaluation">The final evaluation on the test set.</param>
/// <param name="Record">What config.json holds.</param>
public sealed record RunResult(string Folder, History History, EvaluationResult Evaluation, RunRecord Record);
