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
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll"), "train", "--dataset", "synthetic",
            "--epochs", "1000", "--train-limit", "256", "--test-limit", "64", "--batch-size", "64", "--output", run })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null && !line.StartsWith("Epoch 3/", StringComparison.Ordinal))
        {
        }

        Assert.NotNull(line);                               // epochs 1 and 2 are checkpointed
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

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
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll"), "compare", "--dataset", "synthetic", "--variants", "bn,none",
            "--seeds", "2", "--epochs", "25", "--train-limit", "256", "--test-limit", "64", "--batch-size", "64", "--output", sweep })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null && !line.StartsWith("bn ", StringComparison.Ordinal))
        {
        }

        Assert.NotNull(line);                               // the first run of the grid has finished
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

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
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll"), "bench", "--cases", "memory", "--full-memory-run", "-o", json })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null && !line.StartsWith("memory:", StringComparison.Ordinal))
        {
        }

        Assert.NotNull(line);
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        Assert.True(process.WaitForExit(20_000), "the benchmark went on after SIGTERM");
        Assert.NotEqual(0, process.ExitCode);
        Assert.False(File.Exists(json));
    }
}
