using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Experiments;

public sealed class FashionMnistRunTests
{
    /// <summary>The notebook's settings on real data: 3 epochs on all 60,000 images.</summary>
    [SkippableFact]
    public void Notebook_settings_reach_88_percent_on_real_fashion_mnist_in_three_epochs()
    {
        RequiredData.FashionMnist();
        using var temp = new TempDirectory();
        using var output = new StringWriter();

        var result = NotebookExperiment.Run(TestSession.Start(output), TrainConfig.Notebook with { Dataset = DatasetKind.FashionMnist, Epochs = 3 }, temp.Combine("run"));

        Assert.Equal(60_000, result.Record.TrainSamples);
        Assert.Equal(3, result.History.ValAccuracy.Count);
        Assert.All(result.History.Loss, l => Assert.True(double.IsFinite(l)));
        Assert.True(result.Evaluation.Accuracy >= 0.88, $"test accuracy {result.Evaluation.Accuracy:0.0000} after 3 epochs\n{output}");
        Assert.Equal(result.History.ValAccuracy[^1], result.Evaluation.Accuracy, 6);
    }
}
