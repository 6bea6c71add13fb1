using System.Diagnostics;
using System.Text.Json;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Cli;

public sealed class InterruptTests
{
    [Fact]
    public async Task Sigint_during_training_keeps_a_checkpoint_says_how_to_resume_and_exits_130()
    {
        Assert.True(OperatingSystem.IsLinux(), "uses kill -INT");
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        using var process = StartCli("train", "--dataset", "synthetic", "--epochs", "1000", "--train-limit", "256", "--test-limit", "64", "--batch-size", "64", "--output", run);
        var stderr = process.StandardError.ReadToEndAsync();

        Assert.NotNull(SignalAfter(process, "Epoch 3/", "-INT"));   // epochs 1 and 2 are checkpointed

        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "the process did not stop after SIGINT");
        string error = await stderr;

        Assert.Equal(130, process.ExitCode);
        Assert.Contains($"Interrupted. The run folder {run} holds a consistent checkpoint of epoch", error);
        Assert.Contains($"continue with: cifar-bn train --resume {run}", error);
        Assert.DoesNotContain("   at ", error);
        using var status = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "status.json")));
        Assert.Equal("interrupted", status.RootElement.GetProperty("state").GetString());
        Assert.True(status.RootElement.GetProperty("completed_epochs").GetInt32() >= 2);
        using var pointer = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "checkpoint.json")));
        string current = Path.Combine(run, pointer.RootElement.GetProperty("folder").GetString()!);
        Assert.True(File.Exists(Path.Combine(current, "weights.pt")));
        Assert.Equal([current], Directory.GetDirectories(run));   // no temporary or older checkpoint left
    }

    [Fact]
    public async Task Sigint_during_a_comparison_keeps_finished_runs_and_compare_resume_finishes_it()
    {
        Assert.True(OperatingSystem.IsLinux(), "uses kill -INT");
        using var temp = new TempDirectory();
        string sweep = temp.Combine("sweep");
        using var process = StartCli("compare", "--dataset", "synthetic", "--variants", "bn,none", "--seeds", "2", "--epochs", "25",
            "--train-limit", "256", "--test-limit", "64", "--batch-size", "64", "--output", sweep);
        var stderr = process.StandardError.ReadToEndAsync();

        Assert.NotNull(SignalAfter(process, "bn ", "-INT"));        // the first run of the grid has finished

        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "the process did not stop after SIGINT");
        string error = await stderr;

        Assert.Equal(130, process.ExitCode);
        Assert.Matches(@"Interrupted\. [123] of 4 runs finished; every finished run and the interrupted run's last epoch are kept in ", error);
        Assert.Contains($"continue with: cifar-bn compare --resume {sweep}", error);
        Assert.True(File.Exists(Path.Combine(sweep, "runs", "run-0000", "result.json")));

        var resumed = DotnetCli.Run(temp.Path, [Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll"), "compare", "--resume", sweep], TimeSpan.FromMinutes(5));

        Assert.True(resumed.ExitCode == 0, resumed.Transcript);
        Assert.Contains("(finished earlier)", resumed.Output);
        Assert.Equal(1 + (4 * 25), File.ReadAllLines(Path.Combine(sweep, "results.csv")).Length);
        Assert.True(File.Exists(Path.Combine(sweep, "report.md")));
    }

    [Fact]
    public void Sigterm_ends_the_benchmark_at_once_and_leaves_no_results_file()
    {
        Assert.True(OperatingSystem.IsLinux(), "uses kill -TERM");
        using var temp = new TempDirectory();
        string json = temp.Combine("bench.json");
        using var process = StartCli("bench", "--cases", "memory", "--full-memory-run", "-o", json);
        _ = process.StandardError.ReadToEndAsync();

        Assert.NotNull(SignalAfter(process, "memory:", "-TERM"));

        Assert.True(process.WaitForExit(20_000), "the benchmark went on after SIGTERM");
        Assert.NotEqual(0, process.ExitCode);
        Assert.False(File.Exists(json));
    }

    /// <summary>Starts <c>cifar-bn</c> with <paramref name="args"/> as its own process, output redirected.</summary>
    private static Process StartCli(params string[] args)
    {
        // A child inherits an ignored SIGINT (a shell without job control ignores it for what it starts with &), and
        // .NET keeps it ignored: say so instead of failing on an exit code.
        Assert.False(SigintIgnored(), "this test process ignores SIGINT (started in the background by a shell without job control); run the tests in the foreground");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll") }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    /// <summary>Whether this process ignores SIGINT (bit 2 of <c>SigIgn</c> in <c>/proc/self/status</c>).</summary>
    private static bool SigintIgnored() =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)) is string line
        && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0x2) != 0;

    /// <summary>Reads standard output until a line starts with <paramref name="prefix"/>, then sends <paramref name="signal"/>; returns that line (null if the output ended first).</summary>
    private static string? SignalAfter(Process process, string prefix, string signal)
    {
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null && !line.StartsWith(prefix, StringComparison.Ordinal))
        {
        }

        if (line is not null)
        {
            using var kill = Process.Start("kill", [signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            kill.WaitForExit();
        }

        return line;
    }
}
