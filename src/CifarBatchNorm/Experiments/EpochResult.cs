namespace CifarBatchNorm.Experiments;

/// <summary>One epoch of one run of a comparison (a row of results.csv).</summary>
/// <param name="Variant">Variant name (bn, none, ...).</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Loss">Training loss (running mean over the epoch, as Keras reports it).</param>
/// <param name="Accuracy">Training accuracy (running mean over the epoch).</param>
/// <param name="ValLoss">Test-split loss after the epoch.</param>
/// <param name="ValAccuracy">Test-split accuracy after the epoch.</param>
/// <param name="Seconds">Wall-clock seconds of the epoch's training steps.</param>
/// <param name="LearningRate">The run's learning rate.</param>
/// <param name="BatchSize">The run's batch size.</param>
public sealed record EpochResult(string Variant, int Seed, int Epoch, double Loss, double Accuracy, double ValLoss, double ValAccuracy, double Seconds,
    double LearningRate = 0, int BatchSize = 0);
