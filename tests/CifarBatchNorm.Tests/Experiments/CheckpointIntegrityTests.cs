using System.Text.Json;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>
/// Checkpoints that cannot be lost silently (issue 21): every file carries its SHA-256 in the checkpoint's manifest,
/// a broken pointer falls back to the newest complete checkpoint without deleting anything, and a run whose status
/// says epochs are done never restarts from epoch 0 without a word.
/// </summary>
public sealed class CheckpointIntegrityTests
{
    private static readonly TrainConfig Small = new()
    {
        Dataset = DatasetKind.Synthetic, Epochs = 3, BatchSize = 64, TrainLimit = 256, TestLimit = 64, Seed = 4,
    };

    /// <summary>A run stopped after epoch 2: its folder holds checkpoint-000002 and the pointer to it.</summary>
    private static string Interrupted(TempDirectory temp)
    {
        using var source = new CancellationTokenSource();
        string run = temp.Combine("run");
        Assert.Throws<OperationCanceledException>(() =>
            NotebookExperiment.Run(TestSession.Start(cancellationToken: source.Token), Small, run, [new CancelAfter(2, source)]));
        Assert.True(Directory.Exists(Path.Combine(run, "checkpoint-000002")));
        return run;
    }

    [Fact]
    public void Every_checkpoint_file_has_its_sha256_in_the_manifest()
    {
        using var temp = new TempDirectory();
        string checkpoint = Path.Combine(Interrupted(temp), "checkpoint-000002");
        var manifest = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(checkpoint, "manifest.json")))!;

        Assert.Equal(Directory.GetFiles(checkpoint).Select(Path.GetFileName).Where(n => n != "manifest.json").Order(), manifest.Keys.Order());
        foreach (var (name, sum) in manifest)
        {
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(checkpoint, name)))), sum);
        }
    }

    [Theory]
    [InlineData("weights.pt")]
    [InlineData("optimizer.bin")]
    [InlineData("history.json")]
    public void A_flipped_byte_in_a_checkpoint_file_is_an_error_naming_it(string file)
    {
        using var temp = new TempDirectory();
        string run = Interrupted(temp);
        string path = Path.Combine(run, "checkpoint-000002", file);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<ModelFileException>(() => NotebookExperiment.Resume(TestSession.Start(), run));
        Assert.Equal($"{path} differs from the checkpoint's manifest (SHA-256); the file is damaged, so the run is not resumed from it. Restore the file, or start a new run.", e.Message);
        Assert.True(Directory.Exists(Path.Combine(run, "checkpoint-000002")));
    }

    [Fact]
    public void A_pointer_to_a_missing_folder_falls_back_to_the_newest_complete_checkpoint_and_deletes_nothing()
    {
        using var temp = new TempDirectory();
        string run = Interrupted(temp);
        File.WriteAllText(Path.Combine(run, "checkpoint.json"), """{"folder": "checkpoint-000007", "epoch": 7}""");

        var whole = NotebookExperiment.Run(TestSession.Start(), Small, temp.Combine("whole"));
        var resumed = NotebookExperiment.Resume(TestSession.Start(), run);

        Assert.Equal(whole.History.Get("val_loss").ToArray(), resumed.History.Get("val_loss").ToArray());
        Assert.Equal(3, resumed.History.Epochs.Count);
    }

    [Fact]
    public void The_fallback_keeps_the_checkpoint_it_resumes_from_when_cleaning_leftovers()
    {
        using var temp = new TempDirectory();
        string run = Interrupted(temp);
        File.WriteAllText(Path.Combine(run, "checkpoint.json"), """{"folder": "checkpoint-000007", "epoch": 7}""");

        RunCheckpoint.CleanLeftovers(RunFolder.Open(run));
        Assert.True(Directory.Exists(Path.Combine(run, "checkpoint-000002")));
    }

    [Fact]
    public void A_deleted_pointer_resumes_from_the_newest_checkpoint_not_from_epoch_0()
    {
        using var temp = new TempDirectory();
        string run = Interrupted(temp);
        File.Delete(Path.Combine(run, "checkpoint.json"));
        var output = new StringWriter();

        var resumed = NotebookExperiment.Resume(TestSession.Start(output), run);
        Assert.Contains("after epoch 2 of 3", output.ToString());
        Assert.Equal(3, resumed.History.Epochs.Count);
    }

    [Fact]
    public void No_checkpoint_left_while_the_status_says_epochs_are_done_is_an_error_not_a_restart()
    {
        using var temp = new TempDirectory();
        string run = Interrupted(temp);
        File.Delete(Path.Combine(run, "checkpoint.json"));
        Directory.Delete(Path.Combine(run, "checkpoint-000002"), recursive: true);

        var e = Assert.Throws<ModelFileException>(() => NotebookExperiment.Resume(TestSession.Start(), run));
        Assert.Equal($"{run}: status.json says 2 epochs are done, but no checkpoint is left (checkpoint.json and its folder are gone), so the run cannot continue where it stopped. Start a new run in another folder.", e.Message);
    }
}
