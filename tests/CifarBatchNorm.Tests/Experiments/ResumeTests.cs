using System.Text.Json;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using TorchSharp;

namespace CifarBatchNorm.Tests.Experiments;

public sealed class ResumeTests
{
    private static readonly TrainConfig Small = new()
    {
        Dataset = DatasetKind.Synthetic, Epochs = 3, BatchSize = 64, TrainLimit = 512, TestLimit = 128, Seed = 5,
    };

    private static Sequential LoadModel(string folder)
    {
        var model = ModelPresets.Notebook(new global::CifarBatchNorm.Data.ImageShape(32, 32, 3));
        model.LoadWeights(Path.Combine(folder, RunFolder.WeightsFile));
        return model;
    }

    [Fact]
    public void A_run_interrupted_after_epoch_2_and_resumed_equals_the_uninterrupted_run()
    {
        using var temp = new TempDirectory();
        var whole = NotebookExperiment.Run(TestSession.Start(), Small, temp.Combine("whole"));

        using var source = new CancellationTokenSource();
        string broken = temp.Combine("broken");
        Assert.Throws<OperationCanceledException>(() =>
            NotebookExperiment.Run(TestSession.Start(cancellationToken: source.Token), Small, broken, [new CancelAfter(2, source)]));

        using (var status = JsonDocument.Parse(File.ReadAllText(Path.Combine(broken, "status.json"))))
        {
            Assert.Equal("interrupted", status.RootElement.GetProperty("state").GetString());
            Assert.Equal(2, status.RootElement.GetProperty("completed_epochs").GetInt32());
        }

        Assert.False(File.Exists(Path.Combine(broken, RunFolder.WeightsFile)));
        using var log = new StringWriter();
        var resumed = NotebookExperiment.Resume(TestSession.Start(log), broken);

        Assert.Contains($"Resuming {broken} after epoch 2 of 3.", log.ToString());
        Assert.Equal([1, 2, 3], resumed.History.Epochs);
        foreach (string key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
        {
            Assert.Equal(whole.History.Get(key), resumed.History.Get(key));
        }

        Assert.Equal(whole.Evaluation, resumed.Evaluation);
        using var a = LoadModel(whole.Folder);
        using var b = LoadModel(broken);
        var left = a.state_dict();
        var right = b.state_dict();
        Assert.All(left, kv => Assert.True(kv.Value.eq(right[kv.Key]).all().item<bool>(), $"{kv.Key} differs"));
        Assert.Throws<ModelFileException>(() => NotebookExperiment.Resume(TestSession.Start(), broken));
    }

    [Fact]
    public void A_run_stopped_before_its_first_epoch_leaves_no_folder()
    {
        using var temp = new TempDirectory();
        using var source = new CancellationTokenSource();
        source.Cancel();

        Assert.Throws<OperationCanceledException>(() =>
            NotebookExperiment.Run(TestSession.Start(cancellationToken: source.Token), Small, temp.Combine("run")));

        Assert.False(Directory.Exists(temp.Combine("run")));
    }

    [Fact]
    public void Configured_callbacks_write_best_weights_and_tensorboard_events()
    {
        using var temp = new TempDirectory();
        var config = Small with { Epochs = 2, CheckpointBest = true, TensorBoardDir = temp.Combine("tb"), EarlyStoppingPatience = 5, ReduceLrPatience = 5 };

        var result = NotebookExperiment.Run(TestSession.Start(), config, temp.Combine("run"));

        Assert.True(File.Exists(Path.Combine(result.Folder, "best.pt")));
        Assert.NotEmpty(Directory.GetFiles(temp.Combine("tb"), "events.out.tfevents.*", SearchOption.AllDirectories));
        Assert.Equal(2, result.History.Epochs.Count);
    }
}
