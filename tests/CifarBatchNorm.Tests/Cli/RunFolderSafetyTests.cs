using System.Diagnostics;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>Concurrent writers and folders the program did not create (real processes where the case is about them).</summary>
public sealed class RunFolderSafetyTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll");

    private static Process Start(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { Cli }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    private static (int Code, string Error) Finish(Process process)
    {
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "the process did not finish");
        return (process.ExitCode, error.Result);
    }

    [Fact]
    public void Two_runs_started_together_on_one_output_folder_leave_one_run_and_one_clear_error()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("shared");
        string[] train = ["train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "256", "--test-limit", "64", "-o", run];

        using var a = Start(temp.Path, train);
        using var b = Start(temp.Path, train);
        var results = new[] { Finish(a), Finish(b) };

        Assert.Single(results, r => r.Code == 0);
        var failed = Assert.Single(results, r => r.Code != 0);
        Assert.Equal(1, failed.Code);
        string line = Assert.Single(failed.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(run, line, StringComparison.Ordinal);
        Assert.Matches("in use by another running process|already exists and is not empty", line);
        Assert.True(File.Exists(Path.Combine(run, "model.pt")));
    }

    [Fact]
    public void A_resume_of_a_folder_another_process_is_training_is_refused()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("busy");
        using var first = Start(temp.Path, "train", "--dataset", "synthetic", "--epochs", "6", "--train-limit", "2048", "--test-limit", "256", "-o", run);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(run, "checkpoint.json")) && clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            Thread.Sleep(100);
        }

        var (code, _, error) = Run("train", "--resume", run);
        var (firstCode, firstError) = Finish(first);

        Assert.Equal(1, code);
        Assert.Equal($"error: --output {run} is in use by another running process; wait for it to finish or choose another folder.", error.TrimEnd());
        Assert.True(firstCode == 0, firstError);
    }

    [Fact]
    public void An_existing_empty_folder_and_the_working_directory_are_never_deleted_on_an_early_stop()
    {
        using var temp = new TempDirectory();
        string mine = temp.Combine("made-by-user");
        Directory.CreateDirectory(mine);

        // Ctrl+C before the first epoch finished: nothing worth keeping, but the folder is the user's.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var config = new CifarBatchNorm.Experiments.TrainConfig { Dataset = CifarBatchNorm.Experiments.DatasetKind.Synthetic, TrainLimit = 64, TestLimit = 32, Epochs = 1 };
        Assert.Throws<OperationCanceledException>(() => CifarBatchNorm.Experiments.NotebookExperiment.Run(TestSession.Start(cancellationToken: cancelled.Token), config, mine));
        Assert.True(Directory.Exists(mine), "a folder the user made must survive");
        Assert.Empty(Directory.GetFileSystemEntries(mine));
        Assert.Throws<OperationCanceledException>(() => CifarBatchNorm.Experiments.NotebookExperiment.Run(TestSession.Start(cancellationToken: cancelled.Token), config, temp.Combine("made-here")));
        Assert.False(Directory.Exists(temp.Combine("made-here")), "a folder the run created is removed");

        string cwd = temp.Combine("cwd");
        Directory.CreateDirectory(cwd);
        var (dotCode, _) = Finish(Start(cwd, "train", "--dataset", "cifar10", "--no-download", "--data-dir", temp.Combine("no-data"), "-o", "."));
        Assert.Equal(1, dotCode);
        Assert.True(Directory.Exists(cwd), "-o . must never delete the working directory");
    }
}
