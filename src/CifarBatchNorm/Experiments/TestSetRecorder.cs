using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Data;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Evaluates the model on the test set after every epoch and adds <c>test_loss</c> and <c>test_accuracy</c> to the
/// epoch's logs (so the history keeps them), for runs that validate on a split of the training set: the test set is
/// then reported per epoch as a curve, and never used to choose an epoch.
/// </summary>
internal sealed class TestSetRecorder(ImageDataset test, int batchSize) : Callback
{
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var result = Model!.Evaluate(test, batchSize);
        logs["test_loss"] = result.Loss;
        logs["test_accuracy"] = result.Accuracy;
    }
}
