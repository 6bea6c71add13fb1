using System.Text.Json.Nodes;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>
/// Sweeps whose results cannot be mixed up or lost (issue 21): <c>compare merge</c> checks its shards, a folder is
/// locked by a handle on the folder itself, compare holds its lock until its last file, and a sweep stopped while
/// writing its report says how to write it.
/// </summary>
public sealed class SweepIntegrityTests
{
    private static readonly string[] Tiny = ["compare", "--dataset", "synthetic", "--variants", "bn", "--seeds", "2", "--epochs", "1", "--train-limit", "64", "--test-limit", "32"];

    private static void Shard(TempDirectory temp, string name, string shard) =>
        Assert.Equal(0, Run([.. Tiny, "--shard", shard, "-o", temp.Combine(name)]).Code);

    private static void EditResults(string folder, Action<JsonNode> edit)
    {
        string path = Path.Combine(folder, "results.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    [Fact]
    public void Shards_of_different_data_or_shard_counts_or_missing_cells_or_damaged_results_do_not_merge()
    {
        using var temp = new TempDirectory();
        Shard(temp, "a", "1/2");
        Shard(temp, "b", "2/2");
        Shard(temp, "c", "2/3");
        foreach (string copy in new[] { "fashion", "short", "damaged" })
        {
            CopyFolder(temp.Combine("b"), temp.Combine(copy));
        }

        EditResults(temp.Combine("fashion"), json => json["dataset_name"] = "Fashion-MNIST");
        EditResults(temp.Combine("short"), json => json["runs"] = new JsonArray());
        string damaged = Path.Combine(temp.Combine("damaged"), "results.json");
        File.WriteAllText(damaged, File.ReadAllText(damaged)[..100]);

        var data = Run("compare", "merge", temp.Combine("a"), temp.Combine("fashion"), "-o", temp.Combine("m1"));
        var counts = Run("compare", "merge", temp.Combine("a"), temp.Combine("c"), "-o", temp.Combine("m2"));
        var cells = Run("compare", "merge", temp.Combine("a"), temp.Combine("short"), "-o", temp.Combine("m3"));
        var broken = Run("compare", "merge", temp.Combine("a"), temp.Combine("damaged"), "-o", temp.Combine("m4"));
        var good = Run("compare", "merge", temp.Combine("a"), temp.Combine("b"), "-o", temp.Combine("m5"));

        Assert.StartsWith($"error: {temp.Combine("fashion")} trained on Fashion-MNIST (10 classes), {temp.Combine("a")} on ", data.Err, StringComparison.Ordinal);
        Assert.StartsWith($"error: {temp.Combine("c")} is shard 2/3 of a sweep in 3 shards, {temp.Combine("a")} of one in 2", counts.Err, StringComparison.Ordinal);
        Assert.Equal("error: 1 of 2 cells have no run in the shards: bn seed 43 lr 0.001 batch 256. Resume those shards to finish them, then merge again.", cells.Err.TrimEnd());
        Assert.StartsWith($"error: {damaged} is not a comparison's results (", broken.Err, StringComparison.Ordinal);
        Assert.All(new[] { data, counts, cells, broken }, r =>
        {
            Assert.Equal(1, r.Code);
            Assert.Single(r.Err.TrimEnd().Split('\n'));
        });
        Assert.True(good.Code == 0, good.Err);
        Assert.Contains("Merged 2 runs", good.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deleted_lock_file_does_not_let_a_second_writer_in()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("run");
        var first = RunFolder.Create(path);
        File.Delete(Path.Combine(path, RunFolder.LockFile));

        var e = Assert.Throws<IOException>(() => RunFolder.Create(path));
        Assert.Equal($"The run folder {path} is in use by another running process; wait for it to finish or choose another folder.", e.Message);
        Assert.Throws<IOException>(() => RunFolder.OpenExisting(path).AcquireLock());

        first.ReleaseLock();
        RunFolder.OpenExisting(path).ReleaseLock();
        var second = RunFolder.OpenExisting(path);
        second.AcquireLock();
        second.ReleaseLock();
    }

    [Fact]
    public void Compare_holds_its_lock_until_its_last_file_is_written()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("sweep");
        var config = new CompareConfig
        {
            Variants = [NormalizationVariant.Bn], Seeds = 1,
            Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 1, TrainLimit = 64, TestLimit = 32 },
        };
        bool lockedWhileFinishing = false;
        string? statusWhileFinishing = null;
        CompareRunner.Run(TestSession.Start(), config, dir, extra: null, finish: _ =>
        {
            lockedWhileFinishing = Record.Exception(() => RunFolder.OpenExisting(dir).AcquireLock()) is IOException;
            statusWhileFinishing = File.ReadAllText(Path.Combine(dir, RunFolder.StatusFile));
        });

        Assert.True(lockedWhileFinishing, "another writer could take the folder while the report was being written");
        Assert.Contains("\"running\"", statusWhileFinishing, StringComparison.Ordinal);
        Assert.Contains("\"complete\"", File.ReadAllText(Path.Combine(dir, RunFolder.StatusFile)), StringComparison.Ordinal);
        var after = RunFolder.OpenExisting(dir);
        after.AcquireLock();
        after.ReleaseLock();
    }

    [Fact]
    public void Analyze_holds_its_lock_until_its_report_is_written()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("analysis");
        var config = new AnalyzeConfig
        {
            Variants = [NormalizationVariant.Bn], Seeds = 1, ProbeEvery = 1, ProbeBatch = 16,
            Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 1, BatchSize = 32, TrainLimit = 64, TestLimit = 32 },
        };
        bool lockedWhileFinishing = false;
        bool measurementsWritten = false;
        AnalyzeRunner.Run(TestSession.Start(), config, dir, extra: null, finish: _ =>
        {
            lockedWhileFinishing = Record.Exception(() => RunFolder.OpenExisting(dir).AcquireLock()) is IOException;
            measurementsWritten = File.Exists(Path.Combine(dir, "analysis.json"));
        });

        Assert.True(lockedWhileFinishing, "another writer could take the folder while the report was being written");
        Assert.True(measurementsWritten);
        Assert.Contains("\"complete\"", File.ReadAllText(Path.Combine(dir, RunFolder.StatusFile)), StringComparison.Ordinal);
        var after = RunFolder.OpenExisting(dir);
        after.AcquireLock();
        after.ReleaseLock();
    }

    [Fact]
    public void Resume_of_a_sweep_stopped_while_writing_its_report_says_to_run_compare_report()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("sweep");
        Assert.Equal(0, Run([.. Tiny, "-o", dir]).Code);
        File.Delete(Path.Combine(dir, "report.md"));

        var (code, _, error) = Run("compare", "--resume", dir);
        Assert.Equal(1, code);
        Assert.Equal($"error: {dir} holds a complete comparison whose report was not written (the process stopped while writing it); write it with: cifar-bn compare report {dir}", error.TrimEnd());
        Assert.Equal(0, Run("compare", "report", dir).Code);
        Assert.True(File.Exists(Path.Combine(dir, "report.md")));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
