namespace CifarBatchNorm.Training;

/// <summary>What one training or test step reports: the batch's mean loss and how many of its samples were classified correctly.</summary>
/// <param name="Loss">Mean loss over the batch.</param>
/// <param name="Correct">Samples whose arg-max output is their label.</param>
public readonly record struct StepMetrics(double Loss, long Correct);
