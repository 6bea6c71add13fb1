using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Data;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using TorchSharp;

namespace CifarBatchNorm.Tests.Callbacks;

public sealed class CallbackTests
{
    private static Sequential TinyModel()
    {
        torch.manual_seed(1);
        var model = new Sequential(new ImageShape(8, 8, 1));
        model.Add(new Flatten());
        model.Add(new Dense(4, activation: ActivationFunction.Softmax));
        model.Compile(new Adam(0.01));
        return model;
    }

    private static Dictionary<string, double> Logs(double valLoss, double valAccuracy = 0.5) =>
        new() { ["loss"] = 1, ["accuracy"] = 0.5, ["val_loss"] = valLoss, ["val_accuracy"] = valAccuracy };

    /// <summary>Feeds epoch-end logs until the model is told to stop; returns the epoch it stopped at (0 if never).</summary>
    private static int Drive(Callback callback, Sequential model, IEnumerable<Dictionary<string, double>> epochs)
    {
        callback.Model = model;
        model.StopTraining = false;
        callback.OnTrainBegin();
        int epoch = 0;
        foreach (var logs in epochs)
        {
            epoch++;
            callback.OnEpochBegin(epoch);
            callback.OnEpochEnd(epoch, logs);
            if (model.StopTraining)
            {
                callback.OnTrainEnd(logs);
                return epoch;
            }
        }

        callback.OnTrainEnd(new Dictionary<string, double>());
        return 0;
    }

    [Fact]
    public void EarlyStopping_stops_after_patience_epochs_without_improvement()
    {
        using var model = TinyModel();
        using var stopping = new EarlyStopping(patience: 2);

        int stopped = Drive(stopping, model, new[] { 1.0, 0.8, 0.85, 0.9, 0.7 }.Select(v => Logs(v)));

        Assert.Equal(4, stopped);
        Assert.Equal(4, stopping.StoppedEpoch);
        Assert.Equal(2, stopping.BestEpoch);
    }

    [Fact]
    public void EarlyStopping_min_delta_ignores_small_improvements_and_mode_auto_maximizes_accuracy()
    {
        using var model = TinyModel();
        using var byLoss = new EarlyStopping(minDelta: 0.1, patience: 1);
        using var byAccuracy = new EarlyStopping(monitor: "val_accuracy", patience: 1);

        int lossStop = Drive(byLoss, model, new[] { 1.0, 0.95, 0.92, 0.5 }.Select(v => Logs(v)));
        int accuracyStop = Drive(byAccuracy, model, new[] { 0.5, 0.6, 0.55, 0.9 }.Select(a => Logs(1, a)));

        Assert.Equal(2, lossStop);
        Assert.Equal(3, accuracyStop);
    }

    [Fact]
    public void EarlyStopping_resets_between_fits_and_restores_the_best_weights()
    {
        using var model = TinyModel();
        using var stopping = new EarlyStopping(patience: 1, restoreBestWeights: true);
        var weight = ((Dense)model.Layers[1]).Linear.weight!;
        using var bestWeight = weight.detach().clone();

        stopping.Model = model;
        stopping.OnTrainBegin();
        stopping.OnEpochEnd(1, Logs(0.5));                  // best: the current weights
        using (torch.no_grad())
        {
            weight.add_(1.0);                               // training moves on...
        }

        stopping.OnEpochEnd(2, Logs(0.9));                  // ...and gets worse: stop
        stopping.OnTrainEnd(Logs(0.9));

        Assert.True(model.StopTraining);
        Assert.True(weight.allclose(bestWeight));
        Assert.Equal(0, Drive(stopping, model, new[] { 3.0, 2.0, 1.0 }.Select(v => Logs(v))));
    }

    [Fact]
    public void Monitoring_a_quantity_that_is_not_logged_names_the_available_ones()
    {
        using var model = TinyModel();
        using var stopping = new EarlyStopping(monitor: "val_loss");
        stopping.Model = model;
        stopping.OnTrainBegin();

        var error = Assert.Throws<InvalidOperationException>(() => stopping.OnEpochEnd(1, new Dictionary<string, double> { ["loss"] = 1 }));

        Assert.Contains("EarlyStopping monitors 'val_loss', which is not logged; available: loss", error.Message);
    }

    [Fact]
    public void ReduceLROnPlateau_divides_after_patience_and_respects_cooldown_and_floor()
    {
        using var model = TinyModel();
        var reduce = new ReduceLROnPlateau(factor: 0.5, patience: 2, cooldown: 1, minLearningRate: 0.002);
        reduce.Model = model;
        reduce.OnTrainBegin();
        var rates = new List<double>();
        foreach (double v in new[] { 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0 })
        {
            reduce.OnEpochEnd(rates.Count + 1, Logs(v));
            rates.Add(model.Optimizer!.LearningRate);
        }

        Assert.Equal(new[] { 0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.002, 0.002 }, rates.Select(r => Math.Round(r, 6)));
        reduce.OnEpochEnd(9, Logs(1));
        reduce.OnEpochEnd(10, Logs(1));
        Assert.Equal(0.002, model.Optimizer!.LearningRate, 9);
    }

    [Fact]
    public void LearningRateScheduler_sets_the_rate_at_each_epoch_start()
    {
        using var model = TinyModel();
        var scheduler = new LearningRateScheduler((epoch, lr) => epoch < 3 ? lr : lr * 0.1);
        scheduler.Model = model;

        scheduler.OnEpochBegin(1);
        scheduler.OnEpochBegin(2);
        double before = model.Optimizer!.LearningRate;
        scheduler.OnEpochBegin(3);

        Assert.Equal(0.01, before, 12);
        Assert.Equal(0.001, model.Optimizer.LearningRate, 12);
    }

    [Fact]
    public void TerminateOnNaN_stops_on_a_non_finite_loss_only()
    {
        using var model = TinyModel();
        var terminate = new TerminateOnNaN { Model = model };
        terminate.OnTrainBegin();
        terminate.OnEpochBegin(2);

        terminate.OnTrainBatchEnd(4, new Dictionary<string, double> { ["loss"] = 0.3 });
        Assert.False(model.StopTraining);
        terminate.OnTrainBatchEnd(5, new Dictionary<string, double> { ["loss"] = double.NaN });

        Assert.True(model.StopTraining);
        Assert.Equal((2, 5), terminate.StoppedAt);
    }

    [Fact]
    public void CsvLogger_writes_a_header_and_one_row_per_epoch_and_appends()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("log.csv");
        using var model = TinyModel();
        using (var logger = new CsvLogger(path))
        {
            Drive(logger, model, [Logs(0.5), Logs(0.25)]);
        }

        using (var again = new CsvLogger(path, append: true))
        {
            Drive(again, model, [Logs(0.125)]);
        }

        Assert.Equal(
            ["epoch,accuracy,loss,val_accuracy,val_loss", "1,0.5,1,0.5,0.5", "2,0.5,1,0.5,0.25", "1,0.5,1,0.5,0.125"],
            File.ReadAllLines(path));
    }

    [Fact]
    public void ModelCheckpoint_saves_only_improvements_and_the_file_loads()
    {
        using var temp = new TempDirectory();
        using var model = TinyModel();
        var checkpoint = new ModelCheckpoint(temp.Combine("best-{epoch}.pt"), saveBestOnly: true);

        Drive(checkpoint, model, new[] { 1.0, 0.5, 0.7, 0.4 }.Select(v => Logs(v)));

        Assert.Equal(["best-1.pt", "best-2.pt", "best-4.pt"], Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order());
        Assert.Equal(4, checkpoint.LastSavedEpoch);
        using var copy = TinyModel();
        copy.LoadWeights(temp.Combine("best-4.pt"));
    }

    [Fact]
    public void Callbacks_work_in_a_real_training_run()
    {
        using var temp = new TempDirectory();
        var (train, test) = SyntheticImages.Generate(new SyntheticOptions { Shape = new ImageShape(8, 8, 1), Classes = 4, TrainCount = 256, TestCount = 64 });
        using var model = TinyModel();
        var csv = new CsvLogger(temp.Combine("history.csv"));
        var checkpoint = new ModelCheckpoint(temp.Combine("last.pt"));
        var board = new TensorBoard(temp.Combine("tb"));
        using var stopping = new EarlyStopping(monitor: "loss", patience: 0, minDelta: 10);

        var history = model.Fit(train, batchSize: 32, epochs: 5, verbose: 0, validationData: test, callbacks: [csv, checkpoint, board, stopping]);

        // The first epoch sets the best value; min_delta 10 is never met after it, so patience 0 stops at epoch 2.
        Assert.Equal([1, 2], history.Epochs);
        Assert.Equal(2, stopping.StoppedEpoch);
        Assert.Equal(3, File.ReadAllLines(temp.Combine("history.csv")).Length);
        Assert.True(File.Exists(temp.Combine("last.pt")));
        var events = Directory.GetFiles(temp.Combine("tb"), "events.out.tfevents.*", SearchOption.AllDirectories);
        Assert.NotEmpty(events);
        Assert.True(new FileInfo(events[0]).Length > 100);
    }

    [Fact]
    public void ModelCheckpoint_writes_pt_files_and_takes_a_saver_for_the_other_formats()
    {
        using var temp = new TempDirectory();
        var (train, _) = SyntheticImages.Generate(new SyntheticOptions { Shape = new ImageShape(8, 8, 1), Classes = 4, TrainCount = 64, TestCount = 8 });
        using var model = TinyModel();

        var refused = Assert.Throws<ArgumentException>(() => new ModelCheckpoint(temp.Combine("best.weights.h5")));
        model.Fit(train, batchSize: 32, epochs: 1, verbose: 0, callbacks: [new ModelCheckpoint(temp.Combine("best.weights.h5"), monitor: "loss", save: ModelFiles.SaveWeights)]);

        Assert.StartsWith("ModelCheckpoint writes TorchSharp .pt files, and ", refused.Message, StringComparison.Ordinal);
        Assert.Contains("pass save: ModelFiles.SaveWeights", refused.Message, StringComparison.Ordinal);
        using var reloaded = TinyModel();
        reloaded.LoadWeights(temp.Combine("best.weights.h5"));   // a real Keras 3 weights file
        Assert.Equal(model.Layers[1].parameters().First().data<float>().ToArray(), reloaded.Layers[1].parameters().First().data<float>().ToArray());
    }
}
