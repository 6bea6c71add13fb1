namespace CifarBatchNorm.Training;

/// <summary>What <c>Sequential.Evaluate</c> returns (Keras returns <c>[loss, accuracy]</c>).</summary>
/// <param name="Loss">Mean categorical cross-entropy.</param>
/// <param name="Accuracy">Fraction of samples whose arg-max prediction equals the label.</param>
/// <param name="Samples">Number of samples evaluated.</param>
public sealed record EvaluationResult(double Loss, double Accuracy, int Samples);
