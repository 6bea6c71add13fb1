namespace CifarBatchNorm.Experiments;

/// <summary>A paired difference in test accuracy between two variants after one epoch (what stopping there would have shown).</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Test">The paired comparison of the test accuracies after this epoch (a - b).</param>
/// <param name="AHigher">Seeds in which a's accuracy was higher.</param>
public sealed record EpochContrast(int Epoch, PairedTest Test, int AHigher);
