using System.Text.Json;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>
/// An interrupted <c>compare</c> or <c>analyze</c> keeps every finished run and continues with <c>--resume</c>; the
/// resumed sweep gives the numbers of an uninterrupted one.
/// </summary>
public sealed class SweepResumeTests
{
    private static readonly CompareConfig Sweep = new()
    {
        Variants = [NormalizationVariant.Bn, NormalizationVariant.None],
        Seeds = 2,
        TargetAccuracy = 0.5,
        LossTarget = 1.5,
        Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 3, BatchSize = 64, TrainLimit = 256, TestLimit = 64, Seed = 11 },
    };

    private static IEnumerable<object> Numbers(CompareResult result) =>
        result.Epochs.Select(e => (object)(e.Variant, e.Seed, e.Epoch, e.Loss, e.Accuracy, e.ValLoss, e.ValAccuracy))
            .Concat(result.Runs.Select(r => (object)(r.Variant, r.Seed, r.StepsToLossTarget, r.Diverged)))
            .Concat(result.Runs.SelectMany(r => r.LossCurve!.Steps.Select((s, i) => (object)(s, r.LossCurve.Loss[i], r.LossCurve.Smoothed[i]))));   // the per-step curve survives the interruption

    [Fact]
    public void An_interrupted_comparison_keeps_finished_runs_and_resumes_to_the_uninterrupted_numbers()
    {
        using var temp = new TempDirectory();
        var whole = CompareRunner.Run(TestSession.Start(), Sweep, temp.Combine("whole"));
        string dir = temp.Combine("stopped");
        using var stop = new CancellationTokenSource();

        // Ctrl+C after epoch 2 of the second run (grid index 1).
        Assert.ThrowsAny<OperationCanceledException>(() =>
            CompareRunner.Run(TestSession.Start(cancellationToken: stop.Token), Sweep, dir, cell => cell.Index == 1 ? new CancelAfter(2, stop) : null));

        Assert.True(File.Exists(Path.Combine(dir, "runs", "run-0000", "result.json")));
        Assert.True(File.Exists(Path.Combine(dir, "runs", "run-0001", "checkpoint.json")));
        Assert.False(File.Exists(Path.Combine(dir, "runs", "run-0000", "checkpoint.json")));   // a finished run needs no checkpoint
        Assert.Equal(1 + 3, File.ReadAllLines(Path.Combine(dir, "results.csv")).Length);      // header + the first run's 3 epochs
        using (var status = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "status.json"))))
        {
            Assert.Equal("interrupted", status.RootElement.GetProperty("state").GetString());
            Assert.StartsWith("1 of 4 runs finished", status.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        using var log = new StringWriter();
        var resumed = CompareRunner.Resume(TestSession.Start(log), dir);

        Assert.Equal(Numbers(whole), Numbers(resumed));
        Assert.Equal(whole.Dataset, resumed.Dataset);                 // named as at the start, not as reloaded
        Assert.Contains("(finished earlier)", log.ToString(), StringComparison.Ordinal);
        var e = Assert.Throws<CifarBatchNorm.Training.ModelFileException>(() => CompareRunner.Resume(TestSession.Start(), dir));
        Assert.Contains("holds a complete comparison", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_comparison_stopped_before_any_epoch_leaves_no_folder()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("none");
        using var stop = new CancellationTokenSource();
        stop.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => CompareRunner.Run(TestSession.Start(cancellationToken: stop.Token), Sweep, dir));

        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void An_interrupted_analysis_keeps_measured_variants_and_resumes_to_the_same_measurements()
    {
        using var temp = new TempDirectory();
        var config = new AnalyzeConfig
        {
            Variants = [NormalizationVariant.Bn, NormalizationVariant.None],
            Seeds = 1,
            ProbeEvery = 2,
            ProbeBatch = 32,
            Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 2, BatchSize = 64, TrainLimit = 256, TestLimit = 64, Seed = 5 },
        };
        var whole = AnalyzeRunner.Run(TestSession.Start(), config, temp.Combine("whole"));
        string dir = temp.Combine("stopped");
        using var stop = new CancellationTokenSource();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            AnalyzeRunner.Run(TestSession.Start(cancellationToken: stop.Token), config, dir, v => v == NormalizationVariant.None ? new CancelAfter(1, stop) : null));
        Assert.True(File.Exists(Path.Combine(dir, "variants", "bn-seed5.json")));
        Assert.False(File.Exists(Path.Combine(dir, "analysis.json")));

        var resumed = AnalyzeRunner.Resume(TestSession.Start(), dir);

        foreach (string variant in new[] { "bn", "none" })
        {
            Assert.Equal(whole.Landscape[variant], resumed.Landscape[variant]);
            Assert.Equal(whole.Drift[variant], resumed.Drift[variant]);
            Assert.Equal(whole.Ics[variant], resumed.Ics[variant]);
        }
    }

    [Fact]
    public void A_resumed_comparison_runs_with_its_recorded_threads_not_the_resuming_process_pick()
    {
        using var temp = new TempDirectory();
        int processDefault = TorchRuntime.Current!.Threads;
        int recorded = processDefault == 1 ? 2 : 1;   // the sweep runs with a count the resuming process would not pick
        try
        {
            TorchRuntime.Initialize(recorded);
            var whole = CompareRunner.Run(TestSession.Start(), Sweep, temp.Combine("whole"));
            string dir = temp.Combine("stopped");
            using var stop = new CancellationTokenSource();
            Assert.ThrowsAny<OperationCanceledException>(() =>
                CompareRunner.Run(TestSession.Start(cancellationToken: stop.Token), Sweep, dir, cell => cell.Index == 1 ? new CancelAfter(2, stop) : null));
            using (var sweep = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "sweep.json"))))
            {
                Assert.Equal(recorded, sweep.RootElement.GetProperty("runtime").GetProperty("threads").GetInt32());
            }

            TorchRuntime.Initialize(processDefault);   // a new process: every core
            var refused = Assert.Throws<ArgumentException>(() => CompareRunner.Resume(TestSession.Start(), dir));
            Assert.StartsWith($"TrainConfig.Threads {recorded} (as recorded) differs from the session's {processDefault} threads", refused.Message, StringComparison.Ordinal);

            var (code, _, error) = InProcessCli.Run("compare", "--resume", dir);

            Assert.True(code == 0, error);
            Assert.Equal(recorded, TorchRuntime.Current!.Threads);
            Assert.Equal(Numbers(whole), Numbers(CompareRunner.Read(dir)));
        }
        finally
        {
            TorchRuntime.Initialize(processDefault);
        }
    }
}
