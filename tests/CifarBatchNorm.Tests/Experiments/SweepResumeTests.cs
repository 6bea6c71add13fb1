using System.Text.Json;
using CifarBatchNorm.Experiments;
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
        var whole = CompareRunner.Run(Sweep, temp.Combine("whole"), TextWriter.Null);
        string dir = temp.Combine("stopped");
        using var stop = new CancellationTokenSource();

        // Ctrl+C after epoch 2 of the second run (grid index 1).
        Assert.ThrowsAny<OperationCanceledException>(() =>
            CompareRunner.Run(Sweep, dir, TextWriter.Null, stop.Token, cell => cell.Index == 1 ? new CancelAfter(2, stop) : null));

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
        var resumed = CompareRunner.Resume(dir, log);

        Assert.Equal(Numbers(whole), Numbers(resumed));
        Assert.Contains("(finished earlier)", log.ToString(), StringComparison.Ordinal);
        var e = Assert.Throws<CifarBatchNorm.Training.ModelFileException>(() => CompareRunner.Resume(dir, TextWriter.Null));
        Assert.Contains("holds a complete comparison", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_comparison_stopped_before_any_epoch_leaves_no_folder()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("none");
        using var stop = new CancellationTokenSource();
        stop.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => CompareRunner.Run(Sweep, dir, TextWriter.Null, stop.Token));

        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void An_interrupted_analysis_keeps_measured_variants_and_resumes_to_the_same_measurements()
    {
        using var temp = new TempDirectory();
        var config = new AnalyzeConfig
        {
            Variants = [NormalizationVariant.Bn, NormalizationVariant.None],
            ProbeEvery = 2,
            ProbeBatch = 32,
            Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 2, BatchSize = 64, TrainLimit = 256, TestLimit = 64, Seed = 5 },
        };
        var whole = AnalyzeRunner.Run(config, temp.Combine("whole"), TextWriter.Null);
        string dir = temp.Combine("stopped");
        using var stop = new CancellationTokenSource();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            AnalyzeRunner.Run(config, dir, TextWriter.Null, stop.Token, v => v == NormalizationVariant.None ? new CancelAfter(1, stop) : null));
        Assert.True(File.Exists(Path.Combine(dir, "variants", "bn.json")));
        Assert.False(File.Exists(Path.Combine(dir, "analysis.json")));

        var resumed = AnalyzeRunner.Resume(dir, TextWriter.Null);

        foreach (string variant in new[] { "bn", "none" })
        {
            Assert.Equal(whole.Landscape[variant], resumed.Landscape[variant]);
            Assert.Equal(whole.Drift[variant], resumed.Drift[variant]);
            Assert.Equal(whole.Ics[variant], resumed.Ics[variant]);
        }
    }
}
