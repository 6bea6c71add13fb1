using System.Diagnostics;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Tests.Experiments;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Scripts;

/// <summary>
/// <c>scripts/slurm/compare.sh</c> on a real one-node Slurm cluster: an array job of compare shards and a merge job
/// that waits for them give the unsharded results, also when a shard is signalled mid-run and requeued.
/// </summary>
public sealed class SlurmSweepTests : IClassFixture<SlurmCluster>
{
    /// <summary>Two variants x two seeds, three short epochs: each shard trains two runs for a few seconds.</summary>
    private static readonly string[] Sweep =
    [
        "--dataset", "synthetic", "--variants", "bn,none", "--seeds", "2", "--epochs", "3",
        "--train-limit", "1024", "--test-limit", "64", "--batch-size", "64",
    ];

    /// <summary>The same sweep unsharded, in this process, once for both tests.</summary>
    private static readonly Lazy<string> Unsharded = new(() =>
    {
        string folder = Path.Combine(Path.GetTempPath(), "cifar-bn-slurm-unsharded-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (code, _, error) = InProcessCli.Run(["compare", .. Sweep, "--output", folder]);
            Assert.True(code == 0, error);
            return Comparable(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    });

    private static readonly string Script = RepositoryRoot.Combine("scripts", "slurm", "compare.sh");

    private readonly SlurmCluster _cluster;

    public SlurmSweepTests(SlurmCluster cluster) => _cluster = cluster;

    [SkippableFact]
    public void Two_shards_and_the_merge_job_give_the_unsharded_results()
    {
        _cluster.Require();
        using var temp = new TempDirectory();
        string sweep = temp.Combine("sweep");

        var run = SlurmCluster.Run(ScriptStart(["--shards", "2", "--output", sweep, "--wait", "--", .. Sweep]));

        Assert.True(run.ExitCode == 0, run.Transcript + Logs(sweep));
        Assert.Matches(@"^Shards: array job \d+ \(tasks 0-1\)", run.Output);
        Assert.Contains($"Merged results, plots and report: {sweep}", run.Output);
        Assert.Equal(Unsharded.Value, Comparable(sweep));
        Assert.True(File.Exists(Path.Combine(sweep, "report.md")));
        Assert.Empty(Directory.GetDirectories(sweep, ".merging-*"));
        Assert.All(new[] { "shard-0", "shard-1" }, s => Assert.True(File.Exists(Path.Combine(sweep, s, "results.json")), $"{s} has no results"));
        Assert.Contains("shard 1/2, attempt 1", File.ReadAllText(Path.Combine(sweep, "logs", "shard-0.log")));

        var other = SlurmCluster.Run(ScriptStart(["--shards", "2", "--output", sweep, "--", .. Sweep, "--seed", "7"]));

        Assert.Equal(2, other.ExitCode);
        Assert.Equal($"error: {sweep} holds a started sweep with other arguments (see {sweep}/slurm-sweep.txt); resubmit it with those, or choose a new --output", other.Error.TrimEnd());
    }

    [SkippableFact]
    public void A_shard_signalled_mid_run_checkpoints_requeues_itself_and_the_merge_still_gives_the_unsharded_results()
    {
        _cluster.Require();
        using var temp = new TempDirectory();
        string sweep = temp.Combine("sweep");
        using var submit = Process.Start(ScriptStart(["--shards", "2", "--output", sweep, "--wait", "--", .. Sweep]))!;
        var error = submit.StandardError.ReadToEndAsync();
        string first = submit.StandardOutput.ReadLine() ?? "";
        var rest = submit.StandardOutput.ReadToEndAsync();
        string array = System.Text.RegularExpressions.Regex.Match(first, @"array job (\d+)").Groups[1].Value;
        Assert.True(array.Length > 0, first);
        string task = $"{array}_0";

        // As Slurm does before the time limit (--signal=B:TERM@120): SIGTERM to the task's batch shell, once shard 1
        // has checkpointed the first epoch of its first run.
        WaitFor(() => File.Exists(Path.Combine(sweep, "shard-0", "runs", "run-0000", "checkpoint.json")), "shard 1's first checkpoint", sweep);
        string shardLog = Path.Combine(sweep, "logs", "shard-0.log");
        var signal = _cluster.Run("/usr/bin/scancel", "--signal=TERM", "--batch", task);
        Assert.True(signal.ExitCode == 0, signal.Transcript);

        // The task requeues itself. Slurm holds a requeued job back for two minutes; the test releases it after two
        // seconds. Not at once: slurmd refuses a launch whose credential dates from the same second as the revocation
        // of the stopped attempt's ("Job credential revoked"), and the task would fail. The release (an update) makes
        // the controller schedule at once, where a begin time that merely passes waits for its next scheduling pass.
        WaitFor(() =>
        {
            Assert.False(File.ReadAllText(shardLog).Contains("exit 0", StringComparison.Ordinal), "shard 1 finished before the signal reached it: lengthen the sweep" + Logs(sweep));
            return _cluster.JobField(task, "Restarts") == "1" && _cluster.JobField(task, "JobState") == "PENDING";
        }, "the task to requeue itself", sweep);
        Thread.Sleep(TimeSpan.FromSeconds(2));
        var release = _cluster.Run("/usr/bin/scontrol", "update", $"jobid={task}", "starttime=now");
        Assert.True(release.ExitCode == 0, release.Transcript);

        Assert.True(submit.WaitForExit(TimeSpan.FromMinutes(3)), "compare.sh --wait did not return" + Logs(sweep));
        Assert.True(submit.ExitCode == 0, $"exit {submit.ExitCode}\n{first}\n{rest.Result}\n{error.Result}{Logs(sweep)}");
        string log = File.ReadAllText(shardLog);
        Assert.Contains("SIGTERM: asking compare to checkpoint and stop", log);
        Assert.Contains("Interrupted. ", log);
        Assert.Contains("Z exit 130\n", log);
        Assert.Contains($"checkpointed; requeueing {task}", log);
        Assert.Contains($"shard 1/2, attempt 2 on ", log);
        Assert.Contains($"compare --resume {Path.Combine(sweep, "shard-0")}", log);
        Assert.Equal(Unsharded.Value, Comparable(sweep));
    }

    [Fact]
    public void Usage_errors_are_one_line_and_exit_2_before_anything_is_submitted()
    {
        Assert.True(OperatingSystem.IsLinux(), "runs a bash script");
        using var temp = new TempDirectory();
        string sweep = temp.Combine("sweep");

        var noCount = SlurmCluster.Run(ScriptStart(["--shards", "0", "--output", sweep, "--", .. Sweep]));
        var noOutput = SlurmCluster.Run(ScriptStart(["--shards", "2", "--", .. Sweep]));
        var ownShard = SlurmCluster.Run(ScriptStart(["--shards", "2", "--output", sweep, "--", .. Sweep, "--shard", "1/2"]));
        var misplaced = SlurmCluster.Run(ScriptStart(["--shards", "2", "--output", sweep, "--epochs", "3"]));

        Assert.Equal("error: --shards '0' is not a whole number of at least 1; give e.g. --shards 4", noCount.Error.TrimEnd());
        Assert.Equal("error: --output DIR is required: the sweep's folder, on a file system every node sees", noOutput.Error.TrimEnd());
        Assert.Equal("error: '--shard' is set by this script for each shard; leave it out of the compare arguments", ownShard.Error.TrimEnd());
        Assert.Equal("error: unknown option '--epochs'; the compare options go after '--' (see --help)", misplaced.Error.TrimEnd());
        Assert.All(new[] { noCount, noOutput, ownShard, misplaced }, r => Assert.Equal(2, r.ExitCode));
        Assert.False(Directory.Exists(sweep));
    }

    /// <summary>The script against the test cluster, running this build's CLI (<c>CIFAR_BN_COMMAND</c>).</summary>
    private ProcessStartInfo ScriptStart(string[] arguments)
    {
        var start = _cluster.StartInfo(Script, arguments);
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        start.Environment["CIFAR_BN_COMMAND"] = $"{CliOptions.ShellQuote(dotnet)} {CliOptions.ShellQuote(Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll"))}";
        return start;
    }

    private void WaitFor(Func<bool> condition, string what, string sweep)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}{Logs(sweep)}");
            Thread.Sleep(100);
        }
    }

    /// <summary>
    /// results.json as <see cref="ShardTests"/> compares it, less the sentence on how the dataset was chosen: a resumed
    /// shard says "the run's dataset, from its config.json" where the unsharded sweep says "requested".
    /// </summary>
    private static string Comparable(string folder)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(ShardTests.Comparable(folder))!;
        json["dataset"] = null;
        return json.ToJsonString();
    }

    /// <summary>The jobs' logs and the controller's, for assertion messages.</summary>
    private string Logs(string sweep) =>
        (Directory.Exists(Path.Combine(sweep, "logs"))
            ? string.Concat(Directory.GetFiles(Path.Combine(sweep, "logs")).Order().Select(f => $"\n--- {Path.GetFileName(f)} ---\n{File.ReadAllText(f)}"))
            : "") + _cluster.ControllerLog();
}
