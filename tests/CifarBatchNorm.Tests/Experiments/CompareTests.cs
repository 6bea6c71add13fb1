using System.Text.Json;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using TorchSharp;

namespace CifarBatchNorm.Tests.Experiments;

public sealed class CompareTests
{
    [Fact]
    public void Variants_start_from_the_same_weights_for_one_seed()
    {
        var kernels = new List<torch.Tensor>();
        foreach (var variant in new[] { NormalizationVariant.Bn, NormalizationVariant.None, NormalizationVariant.BnBeforeRelu })
        {
            torch.manual_seed(11);
            using var model = ModelPresets.Notebook(ImageShape.Cifar10, variant: variant);
            var convs = model.Layers.OfType<Conv2D>().Select(c => c.Convolution.weight!.detach().clone());
            var denses = model.Layers.OfType<Dense>().Select(d => d.Linear.weight!.detach().clone());
            kernels.Add(torch.cat(convs.Concat(denses).Select(t => t.flatten()).ToArray(), 0));
        }

        Assert.True(kernels[0].eq(kernels[1]).all().item<bool>());
        Assert.True(kernels[0].eq(kernels[2]).all().item<bool>());
        kernels.ForEach(k => k.Dispose());
    }

    [Fact]
    public void Variant_presets_have_the_expected_layers()
    {
        using var none = ModelPresets.Notebook(ImageShape.Cifar10, variant: NormalizationVariant.None);
        using var before = ModelPresets.Notebook(ImageShape.Cifar10, variant: NormalizationVariant.BnBeforeRelu);

        Assert.DoesNotContain(none.Layers, l => l is BatchNormalization);
        Assert.Equal((269_874 - 608L, 0L), none.CountParameters()); // no gamma/beta (608) and no moving statistics (608)
        Assert.Equal(["conv2d", "batch_normalization", "activation"], before.Layers.Take(3).Select(l => l.Name));
        Assert.Equal(ActivationFunction.Linear, ((Conv2D)before.Layers[0]).Activation);
        Assert.Equal(ModelPresets.Notebook(ImageShape.Cifar10).CountParameters(), before.CountParameters());
    }

    [Fact]
    public void Compare_writes_results_plots_and_a_report_for_every_variant_and_seed()
    {
        using var temp = new TempDirectory();
        var config = new CompareConfig
        {
            Variants = [NormalizationVariant.Bn, NormalizationVariant.None],
            Seeds = 2,
            TargetAccuracy = 0.5,
            Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 2, BatchSize = 64, TrainLimit = 256, TestLimit = 64, Seed = 7 },
        };
        using var log = new StringWriter();

        var result = CompareRunner.Run(TestSession.Start(log), config, temp.Combine("cmp"));
        CifarBatchNorm.Reporting.CompareReport.Write(temp.Combine("cmp"), result);

        Assert.Equal(2 * 2 * 2, result.Epochs.Count);
        Assert.Equal(["bn", "none"], result.Summaries.Select(s => s.Variant));
        string dir = temp.Combine("cmp");
        foreach (string name in new[] { "val_accuracy", "train_loss", "train_vs_val", "final_accuracy" })
        {
            Assert.True(new FileInfo(Path.Combine(dir, name + ".png")).Length > 5_000, $"{name}.png");
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(dir, name + ".svg")));
            Assert.Contains($"]({name}.png)", File.ReadAllText(Path.Combine(dir, "report.md")));
        }

        string[] csv = File.ReadAllLines(Path.Combine(dir, "results.csv"));
        Assert.Equal("variant,seed,learning_rate,batch_size,epoch,loss,accuracy,val_loss,val_accuracy,seconds", csv[0]);
        Assert.Equal(9, csv.Length);
        Assert.Contains(csv, l => l.StartsWith("none,8,0.001,64,2,", StringComparison.Ordinal));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
        Assert.Equal(8, json.RootElement.GetProperty("epochs").GetArrayLength());
        string report = File.ReadAllText(Path.Combine(dir, "report.md"));
        var bn = result.Summaries[0];
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"| bn | 0.001 | 64 | 2 (n < 3!) | {bn.FinalAccuracyMean:0.0000} ± {bn.FinalAccuracyCi95:0.0000} |"), report);   // 95% interval, Student t
        Assert.Contains("## Claims, primary endpoints and verdicts", report);
        Assert.Contains("- **BN makes training faster**: **not testable at n = ", report);
        Assert.Contains($"Produced by commit {Provenance.BuildCommit()} (cifar-bn ", report);
        // The per-step loss curve of every run, its moving average, and the results' provenance.
        Assert.All(result.Runs, r => Assert.Equal(2 * 4, r.LossCurve!.Steps[^1]));   // 256 images / 64 = 4 steps per epoch, 2 epochs
        Assert.Equal(Provenance.BuildCommit(), json.RootElement.GetProperty("provenance").GetProperty("commit").GetString());
        Assert.Contains("\"seeds\": 2", report);
        // Per-class results: every run's confusion matrix on the test set, and a plot of the best run's.
        Assert.All(result.Runs, r => Assert.Equal(64, r.Confusion!.Sum(row => row.Sum())));
        var best = result.Runs.MaxBy(r => result.Epochs.Where(e => e.Variant == r.Variant && e.Seed == r.Seed).MaxBy(e => e.Epoch)!.ValAccuracy)!;
        Assert.Contains($"Confusion matrix of the run with the best final test accuracy ({best.Variant}, seed {best.Seed},", report);
        Assert.Contains("![confusion matrix](confusion_matrix.png)", report);
        Assert.True(new FileInfo(Path.Combine(dir, "confusion_matrix.png")).Length > 5_000);
        Assert.Equal(10, result.ClassNames.Count);

        // compare report DIR writes the same report again from results.json alone, without training.
        foreach (string file in new[] { "report.md", "report.html", "final_accuracy.png", "final_accuracy.svg" })
        {
            File.Delete(Path.Combine(dir, file));
        }

        var (code, output, error) = Support.InProcessCli.Run("compare", "report", dir);
        Assert.True(code == 0, error);
        Assert.Contains($"Plots and report of 4 runs: {dir}", output);
        Assert.Equal(report, File.ReadAllText(Path.Combine(dir, "report.md")));
        Assert.True(File.Exists(Path.Combine(dir, "report.html")) && File.Exists(Path.Combine(dir, "final_accuracy.png")));
    }

    [Fact]
    public void Summaries_compute_mean_std_and_epochs_to_target_by_hand()
    {
        var config = new CompareConfig { Variants = [NormalizationVariant.Bn], Seeds = 2, TargetAccuracy = 0.8 };
        EpochResult Row(int seed, int epoch, double val) => new("bn", seed, epoch, 1, 0.5, 1, val, 2.0);
        var rows = new[] { Row(1, 1, 0.7), Row(1, 2, 0.9), Row(2, 1, 0.85), Row(2, 2, 0.8) };

        var summary = Assert.Single(CompareRunner.Summarize(config, rows));

        Assert.Equal(0.85, summary.FinalAccuracyMean, 12);
        Assert.Equal(Math.Sqrt(0.005), summary.FinalAccuracyStd, 12);
        Assert.Equal(1.5, summary.EpochsToTargetMean);
        Assert.Equal(2, summary.SeedsReachingTarget);
        Assert.Equal(2.0, summary.SecondsPerEpoch);
    }
}
