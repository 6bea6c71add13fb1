using System.Diagnostics;
using System.Text.Json;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>Sweeps that outgrow one machine: shards run as separate processes, merged into the unsharded results.</summary>
public sealed class ShardTests
{
    private static readonly string[] Sweep =
    [
        "compare", "--dataset", "synthetic", "--variants", "bn,none", "--seeds", "2", "--epochs", "1",
        "--train-limit", "256", "--test-limit", "64", "--batch-size", "64", "--learning-rates", "1e-3,1e-2",
    ];

    private static Process Start(string dir, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll") }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    /// <summary>results.json without what depends on the clock or on sharding itself.</summary>
    internal static string Comparable(string folder)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "results.json")))!;
        foreach (var row in json["epochs"]!.AsArray())
        {
            row!["seconds"] = 0;
        }

        foreach (var summary in json["summaries"]!.AsArray())
        {
            summary!["seconds_per_epoch"] = 0;
        }

        json["config"]!["shard"] = null;
        json["provenance"] = null;   // how the results were made (each process's own command line), not what they are
        return json.ToJsonString();
    }

    [Fact]
    public void Two_shards_run_as_two_processes_merge_to_the_unsharded_results()
    {
        using var temp = new TempDirectory();
        var (code, _, error) = Run([.. Sweep, "-o", temp.Combine("whole")]);
        Assert.True(code == 0, error);

        using var first = Start(temp.Path, [.. Sweep, "--shard", "1/2", "-o", temp.Combine("s1")]);
        using var second = Start(temp.Path, [.. Sweep, "--shard", "2/2", "-o", temp.Combine("s2")]);
        foreach (var shard in new[] { first, second })
        {
            string err = shard.StandardError.ReadToEnd();
            shard.StandardOutput.ReadToEnd();
            Assert.True(shard.WaitForExit(TimeSpan.FromMinutes(3)));
            Assert.True(shard.ExitCode == 0, err);
        }

        var (mergeCode, mergeOut, mergeError) = Run("compare", "merge", temp.Combine("s2"), temp.Combine("s1"), "--output", temp.Combine("merged"));

        Assert.True(mergeCode == 0, mergeError);
        Assert.Contains("Merged 8 runs", mergeOut, StringComparison.Ordinal);
        Assert.Equal(Comparable(temp.Combine("whole")), Comparable(temp.Combine("merged")));
        Assert.True(File.Exists(temp.Combine("merged", "report.md")));
        using var shardResults = JsonDocument.Parse(File.ReadAllText(temp.Combine("s1", "results.json")));
        Assert.Equal(4, shardResults.RootElement.GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public void A_merge_with_a_missing_or_duplicated_shard_or_another_config_is_one_line()
    {
        using var temp = new TempDirectory();
        string[] tiny = ["compare", "--dataset", "synthetic", "--variants", "bn", "--seeds", "2", "--epochs", "1", "--train-limit", "64", "--test-limit", "32"];
        Assert.Equal(0, Run([.. tiny, "--shard", "1/2", "-o", temp.Combine("a")]).Code);
        Assert.Equal(0, Run([.. tiny, "--shard", "1/2", "-o", temp.Combine("b")]).Code);
        Assert.Equal(0, Run([.. tiny, "--seed", "7", "--shard", "2/2", "-o", temp.Combine("other")]).Code);

        var missing = Run("compare", "merge", temp.Combine("a"), "-o", temp.Combine("m1"));
        var twice = Run("compare", "merge", temp.Combine("a"), temp.Combine("b"), "-o", temp.Combine("m2"));
        var other = Run("compare", "merge", temp.Combine("a"), temp.Combine("other"), "-o", temp.Combine("m3"));

        Assert.Equal("error: shard(s) 2/2 missing; merge needs all 2.", missing.Err.TrimEnd());
        Assert.StartsWith("error: shard 1/2 is given twice", twice.Err, StringComparison.Ordinal);
        Assert.StartsWith($"error: {temp.Combine("other")} ran another configuration", other.Err, StringComparison.Ordinal);
        Assert.All(new[] { missing, twice, other }, r => Assert.Equal(1, r.Code));
        Assert.Equal(2, Run("compare", "--shard", "3/2").Code);
    }

    [Fact]
    public void Shards_partition_the_grid_exactly_once()
    {
        var config = new CompareConfig { Seeds = 3, LearningRates = [1e-3, 1e-2], BatchSizes = [4, 8] };
        var cells = config.Cells().ToList();

        var covered = Enumerable.Range(1, 5).SelectMany(k => cells.Where(c => new ShardSpec(k, 5).Contains(c.Index))).Select(c => c.Index).Order().ToList();

        Assert.Equal(3 * 3 * 2 * 2, cells.Count);
        Assert.Equal(Enumerable.Range(0, cells.Count), covered);
    }
}
