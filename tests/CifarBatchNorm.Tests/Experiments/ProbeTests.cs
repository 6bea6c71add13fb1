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
            Seeds = 2,
            ProbeEvery = 4,
            ProbeBatch = 32,
            Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 1, BatchSize = 32, TrainLimit = 256, TestLimit = 32, Seed = 7 },
        };

        var result = AnalyzeRunner.Run(TestSession.Start(), config, temp.Combine("an"));
        CifarBatchNorm.Reporting.AnalysisReport.Write(temp.Combine("an"), result);

        // 2 probes (steps 4 and 8) per run, 2 seeds (7 and 8) per variant, each point naming its seed.
        Assert.Equal(4, result.Landscape["bn"].Count);
        Assert.Equal([7, 7, 8, 8], result.Landscape["none"].Select(p => p.Seed));
        Assert.Equal(["bn", "bn", "none", "none"], result.Runs.Select(r => r.Variant));
        Assert.Equal([7, 8, 7, 8], result.Runs.Select(r => r.Seed));
        Assert.All(result.Runs, r => Assert.InRange(r.FinalTestAccuracy, 0, 1));
        Assert.NotEqual(result.Landscape["bn"][0].Loss, result.Landscape["bn"][2].Loss);   // the seeds draw different weights
        string dir = temp.Combine("an");
        Assert.Equal(1 + (2 * 2 * 2), File.ReadAllLines(Path.Combine(dir, "landscape.csv")).Length);
        Assert.StartsWith("variant,seed,step,", File.ReadAllLines(Path.Combine(dir, "landscape.csv"))[0], StringComparison.Ordinal);
        Assert.Equal(1 + (2 * 2 * 2 * 5), File.ReadAllLines(Path.Combine(dir, "drift.csv")).Length);
        foreach (string plot in new[] { "loss_landscape", "gradient_predictiveness", "beta_smoothness", "drift_relu0", "drift_relu4" })
        {
            Assert.True(File.Exists(Path.Combine(dir, plot + ".png")), plot);
            Assert.True(File.Exists(Path.Combine(dir, plot + ".svg")), plot);
        }

        string report = File.ReadAllText(Path.Combine(dir, "analysis.md"));
        Assert.Contains("2 seeds (7, 8) per variant", report, StringComparison.Ordinal);
        Assert.Contains("| loss variation | early (steps 1-4) |", report, StringComparison.Ordinal);
        Assert.Contains("| loss variation | late (steps 5-8) |", report, StringComparison.Ordinal);
        Assert.Contains("| bn lower than none: seeds | probes |", report, StringComparison.Ordinal);
        Assert.Contains("| bn | 8 |", report, StringComparison.Ordinal);                                       // the runs table
        Assert.Equal(2 * 2 * 6, result.Ics["bn"].Count);                                  // 2 probes x 2 seeds x 6 Conv2D/Dense layers
        Assert.Equal(1 + (2 * 2 * 2 * 6), File.ReadAllLines(Path.Combine(dir, "ics.csv")).Length);
        Assert.True(File.Exists(Path.Combine(dir, "ics_layer5.png")));
        Assert.Contains("## Internal covariate shift (Santurkar et al.)", report, StringComparison.Ordinal);
        Assert.Contains("commit ", report, StringComparison.Ordinal);                                        // provenance
    }

    [Fact]
    public void Ics_is_zero_when_earlier_layers_do_not_move_and_positive_when_they_do()
    {
        // Santurkar et al. 2018 (arXiv 1805.11604) section 2: G' differs from G only through the update of the earlier layers.
        var (train, _) = SyntheticImages.Generate(Tiny);
        var (x, y) = train.GetRange(0, 32);
        GradientShiftProbe Probe(bool update)
        {
            torch.manual_seed(3);
            using var model = ModelPresets.Notebook(train.Shape);
            model.Compile(new Adam(1e-2));
            if (!update)
            {
                model.Trainer = new NoUpdateTrainer(model);                      // learning rate 0: the weights never move
            }

            var probe = new GradientShiftProbe(x, y, every: 2);
            model.Fit(train, batchSize: 32, epochs: 1, verbose: 0, callbacks: [probe]);
            return probe;
        }

        using var still = Probe(update: false);
        using var moving = Probe(update: true);

        Assert.Equal(4 * 6, still.Points.Count);                                     // 8 steps, every 2nd; 6 Conv2D/Dense layers
        Assert.All(still.Points, p => Assert.Equal((0.0, 1.0), (p.Change, Math.Round(p.Cosine, 5))));
        Assert.All(moving.Points.Where(p => p.LayerIndex == 0), p => Assert.Equal(0, p.Change));   // nothing before the first layer
        Assert.All(moving.Points.Where(p => p.LayerIndex > 0), p =>
        {
            Assert.True(p.Change > 0, $"{p}");
            Assert.True(p.Cosine < 1, $"{p}");
            Assert.True(double.IsFinite(p.RelativeChange) && p.RelativeChange > 0, $"{p}");
        });
        Assert.Equal(["conv2d", "conv2d_1", "conv2d_2", "conv2d_3", "dense", "dense_1"], moving.Points.Take(6).Select(p => p.Layer));
    }

    [Fact]
    public void Ics_measure_by_hand_on_a_two_layer_model()
    {
        // Dense(3) -> Dense(2): moving only the first layer changes the second layer's input and so its gradient;
        // the same weights before and after give G' = G exactly.
        torch.manual_seed(1);
        using var model = new Sequential(new global::CifarBatchNorm.Layers.LayerShape(1, 1, 4));
        model.Add(new global::CifarBatchNorm.Layers.Flatten());
        model.Add(new global::CifarBatchNorm.Layers.Dense(3, activation: global::CifarBatchNorm.Layers.ActivationFunction.Relu));
        model.Add(new global::CifarBatchNorm.Layers.Dense(2, activation: global::CifarBatchNorm.Layers.ActivationFunction.Softmax));
        model.Compile(new Adam());
        using var x = torch.rand(8, 4, 1, 1);
        using var y = torch.randint(0, 2, 8, dtype: torch.ScalarType.Int64);
        var before = GradientShiftProbe.Snapshot(model);

        var same = GradientShiftProbe.Shift(model, before, before, x, y, step: 1);
        var after = before.Select(layer => layer.Select(p => p + 0.1).ToArray()).ToArray();
        var moved = GradientShiftProbe.Shift(model, before, after, x, y, step: 1);

        Assert.Equal([0.0, 0.0], same.Select(p => p.Change));
        Assert.Equal(0, moved[0].Change);
        Assert.True(moved[1].Change > 0);
        // Oracle for the second layer: its gradient with the first layer at before+0.1, computed directly.
        var second = (global::CifarBatchNorm.Layers.Dense)model.Layers[2];
        var first = (global::CifarBatchNorm.Layers.Dense)model.Layers[1];
        torch.Tensor Grad(torch.Tensor[] firstWeights)
        {
            using (torch.no_grad())
            {
                first.Linear.weight!.copy_(firstWeights[0]);
                first.Linear.bias!.copy_(firstWeights[1]);
            }

            foreach (var p in model.parameters())
            {
                p.grad?.zero_();
            }

            model.Trainer!.ComputeLoss(model.ForwardLogits(x), y).backward();
            return torch.cat([second.Linear.weight!.grad!.flatten(), second.Linear.bias!.grad!.flatten()], 0).clone();
        }

        using var g = Grad(before[1]);
        using var gShifted = Grad(after[1]);
        Assert.Equal((g - gShifted).norm().item<float>(), moved[1].Change, 5);
        Assert.Equal(moved[1].Change / g.norm().item<float>(), moved[1].RelativeChange, 5);
    }

    /// <summary>Computes the loss and gradients of every step but never updates the weights (a learning rate of 0, which Adam refuses).</summary>
    private sealed class NoUpdateTrainer(Sequential model) : Trainer(model, new Adam())
    {
        protected override StepMetrics TrainStep(torch.Tensor images, torch.Tensor labels)
        {
            Optimizer.ZeroGrad();
            var logits = Model.ForwardLogits(images);
            var loss = ComputeLoss(logits, labels);
            loss.backward();
            return ReadMetrics(loss, logits, labels);
        }
    }
}
