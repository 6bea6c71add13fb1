namespace CifarBatchNorm.Experiments;

/// <summary>What <c>status.json</c> of a run folder says.</summary>
/// <param name="State">Where the run stands.</param>
/// <param name="CompletedEpochs">Epochs whose checkpoint is in the folder.</param>
/// <param name="Message">What happened, for people.</param>
internal sealed record RunStatus(RunState State, int CompletedEpochs, string Message);
