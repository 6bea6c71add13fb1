namespace CifarBatchNorm.Experiments;

/// <summary>One epoch of one run of a comparison (a row of results.csv).</summary>
/// <param name="Variant">Variant name (bn, none, ...).</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Loss">Training loss (running mean over the epoch, as Keras reports it).</param>
/// <param name="Accuracy">Training accuracy (running mean over the epoch).</param>
/// <param name="ValLoss">Validation loss after the epoch: on the validation split when the run has one, else on the test set.</param>
/// <param name="ValAccuracy">Validation accuracy after the epoch (see <paramref name="ValLoss"/>).</param>
/// <param name="Seconds">Wall-clock seconds of the epoch's training steps.</param>
/// <param name="LearningRate">The run's learning rate.</param>
/// <param name="BatchSize">The run's batch size.</param>
public sealed record EpochResult(string Variant, int Seed, int Epoch, double Loss, double Accuracy, double ValLoss, double ValAccuracy, double Seconds,
    double LearningRate = 0, int BatchSize = 0)
{
    /// <summary>Test-set loss after the epoch; <c>NaN</c> when the run validated on the test set (then it is <see cref="ValLoss"/>).</summary>
    public double TestLoss { get; init; } = double.NaN;

    /// <summary>Test-set accuracy after the epoch; <c>NaN</c> when the run validated on the test set (then it is <see cref="ValAccuracy"/>).</summary>
    public double TestAccuracy { get; init; } = double.NaN;

    /// <summary>Test-set accuracy after the epoch, wherever it was measured.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double TestAccuracyOrValidation => double.IsNaN(TestAccuracy) ? ValAccuracy : TestAccuracy;
}
