namespace CifarBatchNorm.Callbacks;

/// <summary>What a fit run looks like, given to callbacks (Keras <c>callback.params</c>).</summary>
/// <param name="Epochs">Last epoch number of the run.</param>
/// <param name="Steps">Training steps per epoch.</param>
/// <param name="BatchSize">Samples per step.</param>
/// <param name="Samples">Training samples.</param>
/// <param name="Verbose">Verbosity passed to fit.</param>
public sealed record TrainingParams(int Epochs, int Steps, int BatchSize, int Samples, int Verbose);
