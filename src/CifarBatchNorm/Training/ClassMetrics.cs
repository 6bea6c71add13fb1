namespace CifarBatchNorm.Training;

/// <summary>One class's row of a <see cref="ConfusionMatrix"/>.</summary>
/// <param name="Name">The class name.</param>
/// <param name="Support">Images of this class.</param>
/// <param name="Predicted">Images predicted as this class.</param>
/// <param name="Correct">Images of this class predicted as it.</param>
/// <param name="Precision">Correct / Predicted; 0 when nothing was predicted as this class (Keras's and scikit-learn's convention).</param>
/// <param name="Recall">Correct / Support, the class's accuracy; 0 when the class has no images.</param>
/// <param name="F1">2 * precision * recall / (precision + recall); 0 when both are 0.</param>
public sealed record ClassMetrics(string Name, int Support, int Predicted, int Correct, double Precision, double Recall, double F1);
