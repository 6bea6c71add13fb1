using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

/// <summary>
/// Prediction and the confusion matrix stream batch by batch (issue 21: at the end of every run RSS climbed from
/// ~550 MB to 3.6 GB while the per-class evaluation predicted the test set, because every batch's activations stayed
/// alive until the last batch). Tensors alive are counted by TorchSharp's dispose-scope statistics.
/// </summary>
public sealed class StreamingPredictionTests
{
    [Fact]
    public void Predicting_keeps_only_one_batch_of_tensors_alive_however_many_batches()
    {
        var (_, test) = SyntheticImages.Generate(new SyntheticOptions { Shape = new ImageShape(8, 8, 3), TrainCount = 16, TestCount = 160 });
        using var model = ModelPresets.Notebook(new ImageShape(8, 8, 3));
        var alive = new List<long>();
        model.Predict(test, 16, (probabilities, start) => alive.Add(TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount));

        Assert.Equal(10, alive.Count);
        Assert.True(alive[^1] <= alive[1], $"tensors alive per batch: {string.Join(", ", alive)}");
    }

    [Fact]
    public void Predict_returns_one_tensor_and_frees_every_batch()
    {
        var (_, test) = SyntheticImages.Generate(new SyntheticOptions { Shape = new ImageShape(8, 8, 3), TrainCount = 16, TestCount = 100 });
        using var model = ModelPresets.Notebook(new ImageShape(8, 8, 3));
        using var scope = NewDisposeScope();
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var probabilities = model.Predict(test, 16);

        Assert.Equal([100, 10], probabilities.shape);
        Assert.Equal(before + 1, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        var sums = probabilities.sum(1);
        Assert.True(sums.sub(1).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void The_streamed_confusion_matrix_equals_the_one_from_all_probabilities()
    {
        var (_, test) = SyntheticImages.Generate(new SyntheticOptions { Shape = new ImageShape(8, 8, 3), TrainCount = 16, TestCount = 100, Seed = 5 });
        using var model = ModelPresets.Notebook(new ImageShape(8, 8, 3));
        using var scope = NewDisposeScope();
        var streamed = ConfusionMatrix.Compute(model, test, 16);
        var whole = ConfusionMatrix.FromProbabilities(model.Predict(test, 100), test.Labels, test.ClassNames);

        Assert.Equal(100, streamed.Total);
        Assert.Equal(whole.Counts, streamed.Counts);
    }
}
