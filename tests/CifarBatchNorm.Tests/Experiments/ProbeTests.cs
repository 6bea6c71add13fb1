using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using TorchSharp;

namespace CifarBatchNorm.Tests.Experiments;

public sealed class ProbeTests
{
    private static readonly SyntheticOptions Tiny = new() { Shape = new ImageShape(16, 16, 3), TrainCount = 256, TestCount = 64 };

    private static (History History, Dictionary<string, torch.Tensor> Weights) Train(Func<ImageDataset, global::CifarBatchNorm.Callbacks.Callback[]> probes)
    {
        var (train, test) = SyntheticImages.Generate(Tiny);
        torch.manual_seed(3);
        using var model = ModelPresets.Notebook(train.Shape);
        model.Compile(new Adam());
        var callbacks = probes(train);
        var history = model.Fit(train, batchSize: 32, epochs: 2, verbose: 0, validationData: test, callbacks: callbacks);
        foreach (var d in callbacks.OfType<IDisposable>())
        {
            d.Dispose();
        }

        return (history, model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone()));
    }

    [Fact]
    public void Probes_do_not_change_training()
    {
        var plain = Train(_ => []);
        LandscapeProbe? landscape = null;
        ActivationDriftProbe? drift = null;
        var probed = Train(train =>
        {
            var (x, y) = train.GetRange(0, 64);
            landscape = new LandscapeProbe(x, y, every: 3);
            drift = new ActivationDriftProbe(x, y, every: 3);
            return [landscape, drift];
        });

        Assert.Equal(plain.History.Loss, probed.History.Loss);
        Assert.Equal(plain.History.ValAccuracy, probed.History.ValAccuracy);
        Assert.All(plain.Weights, kv => Assert.True(kv.Value.eq(probed.Weights[kv.Key]).all().item<bool>(), kv.Key));
        Assert.Equal(5, landscape!.Points.Count);           // 16 steps, every 3rd
        Assert.Equal(5 * 5, drift!.Points.Count);            // 5 ReLUs in the notebook model
    }

    [Fact]
    public void Landscape_numbers_are_consistent()
    {
        LandscapeProbe? probe = null;
        Train(train =>
        {
            var (x, y) = train.GetRange(0, 64);
            probe = new LandscapeProbe(x, y, every: 4, stepSizes: [0.01, 0.02]);
            return [probe];
        });

        Assert.All(probe!.Points, p =>
        {
            Assert.InRange(p.Loss, p.LossMin, p.LossMax);
            Assert.True(p.GradientNorm > 0);
            Assert.True(p.GradientChangeMax >= p.GradientChangeMin);
            // beta is the largest change per unit of step length, so it bounds each ratio
            Assert.True(p.BetaSmoothness >= p.GradientChangeMax / (0.02 * p.GradientNorm) - 1e-9);
        });
    }

    [Fact]
    public void Drift_percentiles_are_ordered_and_name_the_layers()
    {
        ActivationDriftProbe? drift = null;
        Train(train =>
        {
            var (x, y) = train.GetRange(0, 32);
            drift = new ActivationDriftProbe(x, y, every: 8);
            return [drift];
        });

        Assert.Equal(["conv2d", "conv2d_1", "conv2d_2", "conv2d_3", "dense"], drift!.Points.Where(p => p.Step == 8).Select(p => p.Layer));
        Assert.All(drift.Points, p => Assert.True(p.P15 <= p.P50 && p.P50 <= p.P85));
    }

    [Fact]
    public void Analyze_writes_measurements_plots_and_report()
    {
        using var temp = new TempDirectory();
        var config = new AnalyzeConfig
        {
            ProbeEvery = 4,
            ProbeBatch = 32,
            Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 1, BatchSize = 32, TrainLimit = 256, TestLimit = 32 },
        };

        var result = AnalyzeRunner.Run(config, temp.Combine("an"), TextWriter.Null);
        CifarBatchNorm.Reporting.AnalysisReport.Write(temp.Combine("an"), result);

        Assert.Equal(2, result.Landscape["bn"].Count);
        Assert.Equal(2, result.Landscape["none"].Count);
        string dir = temp.Combine("an");
        Assert.Equal(1 + (2 * 2), File.ReadAllLines(Path.Combine(dir, "landscape.csv")).Length);
        Assert.Equal(1 + (2 * 2 * 5), File.ReadAllLines(Path.Combine(dir, "drift.csv")).Length);
        foreach (string plot in new[] { "loss_landscape", "gradient_predictiveness", "beta_smoothness", "drift_relu0", "drift_relu4" })
        {
            Assert.True(File.Exists(Path.Combine(dir, plot + ".png")), plot);
            Assert.True(File.Exists(Path.Combine(dir, plot + ".svg")), plot);
        }

        Assert.Contains("| bn | 2 |", File.ReadAllText(Path.Combine(dir, "analysis.md")));
    }
}
