using System.Text.Json;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>What a run tells about itself: where validation came from, the per-class evaluation, the CPU, and advice for a quick run.</summary>
public sealed class RunOutputsTests
{
    /// <summary>The quick run: 2 epochs on 2,000 images (16 steps at batch 256).</summary>
    private static readonly TrainConfig Quick = new()
    {
        Dataset = DatasetKind.Synthetic, Epochs = 2, TrainLimit = 2_000, TestLimit = 500, Seed = 42,
    };

    private static JsonElement ReadJson(string folder, string file) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, file))).RootElement;

    [Fact]
    public void A_quick_bn_run_that_ends_far_below_its_training_accuracy_says_so_and_names_the_momentum()
    {
        using var temp = new TempDirectory();
        using var log = new StringWriter();

        var result = NotebookExperiment.Run(TestSession.Start(log), Quick, temp.Combine("run"));

        double train = result.History.Accuracy[^1], validation = result.History.ValAccuracy[^1];
        Assert.True(validation < train - 0.2 && validation < 0.5, $"the quick run did not show the symptom: train {train}, validation {validation}");
        Assert.NotNull(result.Advice);
        Assert.Contains("after 16 steps", result.Advice, StringComparison.Ordinal);
        Assert.Contains("TrainConfig.BnMomentum to 0.9", result.Advice, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Advice, log.ToString(), StringComparison.Ordinal);   // data for the caller, not printed in library terms
        Assert.Equal(0.99, result.Record.Config.BnMomentum);
    }

    [Fact]
    public void A_run_without_batch_normalization_or_with_matching_accuracies_gets_no_advice()
    {
        using var temp = new TempDirectory();

        var plain = NotebookExperiment.Run(TestSession.Start(), Quick with { Variant = NormalizationVariant.None }, temp.Combine("none"));
        var fast = NotebookExperiment.Run(TestSession.Start(), Quick with { BnMomentum = 0.5 }, temp.Combine("fast"));

        Assert.Null(plain.Advice);
        Assert.True(fast.History.ValAccuracy[^1] > 0.5, $"momentum 0.5 validation accuracy {fast.History.ValAccuracy[^1]}");
        Assert.Null(fast.Advice);
    }

    [Fact]
    public void Config_json_records_the_cpu_model_and_the_validation_set()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        NotebookExperiment.Run(TestSession.Start(), Quick with { Epochs = 1, TrainLimit = 256, TestLimit = 64, BatchSize = 64 }, run);

        var config = ReadJson(run, "config.json");
        string cpu = config.GetProperty("cpu_model").GetString()!;
        string? modelName = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        Assert.False(string.IsNullOrWhiteSpace(cpu));
        if (modelName is not null)
        {
            Assert.Equal(modelName, cpu);
        }

        Assert.Equal("the test set (64 images)", config.GetProperty("validation").GetString());
        Assert.Equal(64, config.GetProperty("validation_samples").GetInt32());
    }

    [Fact]
    public void A_validation_split_is_named_in_the_banner_config_and_evaluation_and_the_final_evaluation_stays_on_the_test_set()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        using var log = new StringWriter();

        var result = NotebookExperiment.Run(TestSession.Start(log), Quick with { Epochs = 1, TrainLimit = 640, TestLimit = 100, BatchSize = 64, ValidationSplit = 0.1, CheckpointBest = true }, run);

        const string expected = "last 10% of the training set (64 images; training on the first 576)";
        Assert.Contains($"Validation: {expected}; the final evaluation uses the test set.", log.ToString(), StringComparison.Ordinal);
        Assert.Equal(expected, ReadJson(run, "config.json").GetProperty("validation").GetString());
        var evaluation = ReadJson(run, "evaluation.json");
        Assert.Equal(expected, evaluation.GetProperty("validation").GetString());
        Assert.Equal("the test set (100 images)", evaluation.GetProperty("evaluated_on").GetString());
        Assert.Equal(100, result.Evaluation.Samples);
        Assert.True(File.Exists(Path.Combine(run, "best.pt")));
    }

    [Fact]
    public void Evaluation_json_holds_the_confusion_matrix_and_per_class_precision_and_recall_with_class_names()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var result = NotebookExperiment.Run(TestSession.Start(), Quick with { Epochs = 1, TrainLimit = 512, TestLimit = 200, BatchSize = 64, BnMomentum = 0.5 }, run);

        var evaluation = ReadJson(run, "evaluation.json");
        string[] names = evaluation.GetProperty("class_names").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(c => $"class_{c}"), names);
        int[][] counts = evaluation.GetProperty("confusion_matrix").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        Assert.Equal(200, counts.Sum(r => r.Sum()));
        int correct = Enumerable.Range(0, 10).Sum(i => counts[i][i]);
        Assert.Equal(result.Evaluation.Accuracy, correct / 200.0, 12);
        var classes = evaluation.GetProperty("classes").EnumerateArray().ToArray();
        Assert.Equal(10, classes.Length);
        for (int c = 0; c < 10; c++)
        {
            Assert.Equal(names[c], classes[c].GetProperty("name").GetString());
            Assert.Equal(counts[c].Sum(), classes[c].GetProperty("support").GetInt32());
            int predicted = counts.Sum(r => r[c]);
            double precision = predicted == 0 ? 0 : (double)counts[c][c] / predicted;
            Assert.Equal(precision, classes[c].GetProperty("precision").GetDouble(), 12);
            Assert.Equal((double)counts[c][c] / counts[c].Sum(), classes[c].GetProperty("recall").GetDouble(), 12);
        }

        Assert.Equal(counts, result.Details!.ToConfusionMatrix().Counts);
    }

    [Fact]
    public void An_augmented_run_with_the_same_seed_repeats_bit_for_bit()
    {
        using var temp = new TempDirectory();
        var config = Quick with
        {
            Epochs = 2, TrainLimit = 384, TestLimit = 64, BatchSize = 64, Augment = [Augmentation.Flip, Augmentation.Translate, Augmentation.Crop],
        };

        var first = NotebookExperiment.Run(TestSession.Start(), config, temp.Combine("a"));
        var second = NotebookExperiment.Run(TestSession.Start(), config, temp.Combine("b"));
        var plain = NotebookExperiment.Run(TestSession.Start(), config with { Augment = [] }, temp.Combine("plain"));

        foreach (string key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
        {
            Assert.Equal(first.History.Get(key), second.History.Get(key));   // exact doubles, not approximately
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(first.Folder, "model.pt")), File.ReadAllBytes(Path.Combine(second.Folder, "model.pt")));
        Assert.NotEqual(first.History.Loss, plain.History.Loss);
        Assert.Equal(["flip", "translate", "crop"], ReadJson(first.Folder, "config.json").GetProperty("config").GetProperty("augment").EnumerateArray().Select(e => e.GetString()));
    }

    /// <summary>Cancels the run's token at the end of the given epoch, as Ctrl+C would.</summary>
    private sealed class CancelAfter(int epoch, CancellationTokenSource source) : Callback
    {
        public override void OnEpochEnd(int e, IDictionary<string, double> logs)
        {
            if (e == epoch)
            {
                source.Cancel();
            }
        }
    }

    [Fact]
    public void An_augmented_run_resumed_after_an_interruption_draws_the_same_augmentations()
    {
        using var temp = new TempDirectory();
        var config = Quick with { Epochs = 2, TrainLimit = 256, TestLimit = 64, BatchSize = 64, Augment = [Augmentation.Translate, Augmentation.Crop] };
        var whole = NotebookExperiment.Run(TestSession.Start(), config, temp.Combine("whole"));
        using var source = new CancellationTokenSource();
        string broken = temp.Combine("broken");
        Assert.Throws<OperationCanceledException>(() => NotebookExperiment.Run(TestSession.Start(cancellationToken: source.Token), config, broken, [new CancelAfter(1, source)]));

        var resumed = NotebookExperiment.Resume(TestSession.Start(), broken);

        Assert.Equal(whole.History.Loss, resumed.History.Loss);
        Assert.Equal(whole.Evaluation, resumed.Evaluation);
    }
}
