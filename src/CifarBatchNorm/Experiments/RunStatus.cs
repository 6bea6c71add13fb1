namespace CifarBatchNorm.Experiments;

/// <summary>What <c>status.json</c> of a run folder says.</summary>
/// <param name="State"><c>running</c>, <c>interrupted</c>, <c>diverged</c> or <c>complete</c>.</param>
/// <param name="CompletedEpochs">Epochs whose checkpoint is in the folder.</param>
/// <param name="Message">What happened, for people.</param>
public sealed record RunStatus(string State, int CompletedEpochs, string Message);
