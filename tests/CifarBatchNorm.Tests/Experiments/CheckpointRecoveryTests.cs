using System.Text.Json;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.IO;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>Runs are never lost: kills between renames, callback state across a resume, extending a finished run.</summary>
public sealed class CheckpointRecoveryTests
{
    private static readonly TrainConfig Small = new()
    {
        Dataset = DatasetKind.Synthetic, Epochs = 4, BatchSize = 64, TrainLimit = 512, TestLimit = 128, Seed = 9,
    };

    private static double[] Column(RunResult result, string key) => result.History.Get(key).ToArray();

    [Fact]
    public void Resumed_equals_uninterrupted_with_every_callback_enabled()
    {
        // ReduceLROnPlateau with patience 0 and min delta 0 on val_loss reduces the learning rate as soon as validation
        // stalls: if its state were lost at the interruption, epochs 3-4 would run at another learning rate.
        using var temp = new TempDirectory();
        var config = Small with { ReduceLrPatience = 0, EarlyStoppingPatience = 3, CheckpointBest = true, TensorBoardDir = temp.Combine("tb") };
        var whole = NotebookExperiment.Run(TestSession.Start(), config, temp.Combine("whole"));

        using var source = new CancellationTokenSource();
        string broken = temp.Combine("broken");
        var brokenConfig = config with { TensorBoardDir = temp.Combine("tb2") };
        Assert.Throws<OperationCanceledException>(() =>
            NotebookExperiment.Run(TestSession.Start(cancellationToken: source.Token), brokenConfig, broken, [new CancelAfter(2, source)]));
        var resumed = NotebookExperiment.Resume(TestSession.Start(), broken, [new CancelAfter(-1, new CancellationTokenSource())]);

        Assert.Equal(Column(whole, "learning_rate"), Column(resumed, "learning_rate"));
        Assert.True(Column(whole, "learning_rate").Distinct().Count() > 1, "the test needs a learning-rate reduction to mean anything");
        foreach (string key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
        {
            Assert.Equal(Column(whole, key), Column(resumed, key));
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(whole.Folder, "best.pt")).Length, File.ReadAllBytes(Path.Combine(broken, "best.pt")).Length);
    }

    [Theory]
    [InlineData("temporary folder written, not renamed")]
    [InlineData("new folder renamed, pointer not replaced")]
    [InlineData("pointer replaced, old folder not deleted")]
    public void A_kill_at_any_instant_of_the_checkpoint_swap_leaves_a_resumable_run(string instant)
    {
        using var temp = new TempDirectory();
        using var source = new CancellationTokenSource();
        string run = temp.Combine("run");
        Assert.Throws<OperationCanceledException>(() =>
            NotebookExperiment.Run(TestSession.Start(cancellationToken: source.Token), Small, run, [new CancelAfter(2, source)]));
        string current = Path.Combine(run, "checkpoint-000002");
        Assert.True(Directory.Exists(current));

        // What a SIGKILL between the steps of epoch 3's checkpoint would leave behind.
        switch (instant)
        {
            case "temporary folder written, not renamed":
                CopyFolder(current, Path.Combine(run, "checkpoint-000003.tmp-dead"));
                File.WriteAllText(Path.Combine(run, "model.pt.tmp-1-dead"), "partial");
                break;
            case "new folder renamed, pointer not replaced":
                CopyFolder(current, Path.Combine(run, "checkpoint-000003"));
                File.WriteAllText(Path.Combine(run, "checkpoint.json.tmp-1-dead"), "{");
                break;
            default:
                CopyFolder(current, Path.Combine(run, "checkpoint-000001"));
                Directory.CreateDirectory(Path.Combine(run, "checkpoint.old-0123"));
                break;
        }

        using var log = new StringWriter();
        var resumed = NotebookExperiment.Resume(TestSession.Start(log), run);

        Assert.Contains("after epoch 2 of 4", log.ToString(), StringComparison.Ordinal);
        Assert.Equal([1, 2, 3, 4], resumed.History.Epochs);
        Assert.Equal(["checkpoint-000004"], Directory.GetDirectories(run).Select(Path.GetFileName).Where(n => n!.StartsWith("checkpoint", StringComparison.Ordinal)));
        Assert.Empty(Directory.GetFileSystemEntries(run, "*.tmp-*"));
        Assert.Empty(Directory.GetFileSystemEntries(run, "*.old-*"));
    }

    [Fact]
    public void A_finished_run_is_extended_with_epochs_and_its_history_appended()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        var first = NotebookExperiment.Run(TestSession.Start(), Small with { Epochs = 2 }, run);
        var whole = NotebookExperiment.Run(TestSession.Start(), Small with { Epochs = 3 }, temp.Combine("whole"));

        var (code, output, error) = Run("train", "--resume", run, "--epochs", "3");

        Assert.True(code == 0, error);
        Assert.Contains($"Resuming {run} after epoch 2 of 3.", output, StringComparison.Ordinal);
        using var history = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "history.json")));
        var loss = history.RootElement.GetProperty("loss").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(Column(whole, "loss"), loss);
        Assert.Equal(2, first.History.Epochs.Count);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal(3, config.RootElement.GetProperty("config").GetProperty("epochs").GetInt32());
    }

    [Fact]
    public void Resume_refuses_other_options_naming_them_and_the_one_allowed()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        NotebookExperiment.Run(TestSession.Start(), Small with { Epochs = 1 }, run);

        var (code, _, error) = Run("train", "--resume", run, "--lr", "0.5", "-o", temp.Combine("elsewhere"));
        var (shorter, _, shorterError) = Run("train", "--resume", run, "--epochs", "1");

        Assert.Equal(2, code);
        Assert.StartsWith("error: --resume continues a run with its own settings; --learning-rate, --output cannot change them. Only --epochs N", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("elsewhere")));
        Assert.Equal(2, shorter);
        Assert.Contains("--epochs 1 is not more than the 1 epochs", shorterError, StringComparison.Ordinal);
    }

    [Fact]
    public void Durable_writes_flush_files_and_folders()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("a.json");

        AtomicFile.WriteAllText(file, "{}");
        Durable.FlushTree(temp.Path);

        Assert.Equal("{}", File.ReadAllText(file));
        Assert.Empty(Directory.GetFiles(temp.Path, "*.tmp-*"));
        Assert.Throws<IOException>(() => Durable.FlushDirectory(temp.Combine("missing")));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
