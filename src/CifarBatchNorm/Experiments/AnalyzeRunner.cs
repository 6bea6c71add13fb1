using System.Globalization;
using System.Text;
using System.Text.Json;
using CifarBatchNorm.Reporting;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Trains each variant once with the landscape and activation-drift probes attached, then writes
/// <c>landscape.csv</c>, <c>drift.csv</c>, <c>analysis.json</c>, plots and <c>analysis.md</c>.
/// </summary>
public static class AnalyzeRunner
{
    /// <summary>Runs the measurements into the new folder <paramref name="outputDir"/>.</summary>
    public static AnalyzeResult Run(AnalyzeConfig config, string outputDir, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(output);
        config.Validate();
        var (data, folder) = DatasetSelector.Prepare(config.Training, outputDir, output);
        var landscape = new Dictionary<string, IReadOnlyList<LandscapePoint>>(StringComparer.Ordinal);
        var drift = new Dictionary<string, IReadOnlyList<DriftPoint>>(StringComparer.Ordinal);
        try
        {
            using var scope = NewDisposeScope();
            var (images, labels) = data.Train.GetRange(0, Math.Min(config.ProbeBatch, data.Train.Count));
            foreach (var variant in config.Variants)
            {
                string name = ModelPresets.VariantName(variant);
                manual_seed(config.Training.Seed);
                using var model = ModelPresets.Notebook(data.Train.Shape, data.Train.NumClasses, variant, config.Training.BnMomentum);
                model.Compile(new Adam(config.Training.LearningRate));
                using var probe = new LandscapeProbe(images, labels, config.ProbeEvery);
                using var activations = new ActivationDriftProbe(images, labels, config.ProbeEvery);
                var history = model.Fit(data.Train, batchSize: config.Training.BatchSize, epochs: config.Training.Epochs, verbose: 0,
                    validationData: data.Test, callbacks: [probe, activations], cancellationToken: cancellationToken);
                landscape[name] = probe.Points;
                drift[name] = activations.Points;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-15} {probe.Points.Count} probes, final val_accuracy {history.ValAccuracy[^1]:0.0000}"));
            }
        }
        catch
        {
            Directory.Delete(folder.Path, recursive: true);
            throw;
        }

        var result = new AnalyzeResult(config, data.Reason, MachineInfo.Describe(), landscape, drift);
        Write(folder, result);
        output.WriteLine($"Measurements, plots and report: {folder.Path}");
        return result;
    }

    /// <summary>Writes the data, the plots and <c>analysis.md</c>.</summary>
    public static void Write(RunFolder folder, AnalyzeResult result)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(result);
        folder.WriteJson("analysis.json", result);
        var csv = new StringBuilder("variant,step,loss,loss_min,loss_max,gradient_change_min,gradient_change_max,beta_smoothness,gradient_norm\n");
        foreach (var (variant, points) in result.Landscape)
        {
            foreach (var p in points)
            {
                csv.Append(CultureInfo.InvariantCulture,
                    $"{variant},{p.Step},{p.Loss:R},{p.LossMin:R},{p.LossMax:R},{p.GradientChangeMin:R},{p.GradientChangeMax:R},{p.BetaSmoothness:R},{p.GradientNorm:R}\n");
            }
        }

        folder.WriteText("landscape.csv", csv.ToString());
        var driftCsv = new StringBuilder("variant,step,relu,layer,p15,p50,p85\n");
        foreach (var (variant, points) in result.Drift)
        {
            foreach (var p in points)
            {
                driftCsv.Append(CultureInfo.InvariantCulture, $"{variant},{p.Step},{p.Relu},{p.Layer},{p.P15:R},{p.P50:R},{p.P85:R}\n");
            }
        }

        folder.WriteText("drift.csv", driftCsv.ToString());

        var variants = result.Landscape.Keys.ToArray();
        ChartSeries Band(int v, Func<LandscapePoint, double> mid, Func<LandscapePoint, double> low, Func<LandscapePoint, double> high)
        {
            var points = result.Landscape[variants[v]];
            return new ChartSeries(variants[v], points.Select(p => (double)p.Step).ToArray(), points.Select(mid).ToArray(),
                points.Select(low).ToArray(), points.Select(high).ToArray(), ColorIndex: v);
        }

        Charts.Lines(folder.File("loss_landscape"), "Loss landscape: L(w - eta g), band = range over eta (loss variation)", "training step", "loss",
            variants.Select((_, v) => Band(v, p => p.Loss, p => p.LossMin, p => p.LossMax)).ToList(), integerX: false);
        Charts.Lines(folder.File("gradient_predictiveness"), "Gradient predictiveness: ||grad L(w) - grad L(w - eta g)||, band = range over eta",
            "training step", "gradient change", variants.Select((_, v) => Band(v, p => (p.GradientChangeMin + p.GradientChangeMax) / 2, p => p.GradientChangeMin, p => p.GradientChangeMax)).ToList(),
            integerX: false);
        Charts.Lines(folder.File("beta_smoothness"), "Effective beta-smoothness", "training step", "max ||grad change|| / ||eta g||",
            variants.Select((_, v) => Band(v, p => p.BetaSmoothness, p => p.BetaSmoothness, p => p.BetaSmoothness) with { Lower = null, Upper = null }).ToList(),
            integerX: false);

        int relus = result.Drift.Values.Select(d => d.Count == 0 ? 0 : d.Max(p => p.Relu) + 1).DefaultIfEmpty(0).Max();
        for (int r = 0; r < relus; r++)
        {
            var series = new List<ChartSeries>();
            int v = 0;
            foreach (var (variant, points) in result.Drift)
            {
                var layer = points.Where(p => p.Relu == r).ToArray();
                series.Add(new ChartSeries($"{variant} median (band 15th-85th)", layer.Select(p => (double)p.Step).ToArray(), layer.Select(p => p.P50).ToArray(),
                    layer.Select(p => p.P15).ToArray(), layer.Select(p => p.P85).ToArray(), ColorIndex: v++));
            }

            Charts.Lines(folder.File($"drift_relu{r}"), $"Input of ReLU {r + 1}: 15th, 50th, 85th percentiles over training", "training step", "pre-activation value",
                series, integerX: false);
        }

        folder.WriteText("analysis.md", Markdown(result, relus));
    }

    private static string Markdown(AnalyzeResult result, int relus)
    {
        var sb = new StringBuilder("# Why BN helps: landscape and activation drift\n\n");
        var c = result.Config;
        sb.Append(CultureInfo.InvariantCulture, $"{result.Dataset} {c.Training.Epochs} epochs, batch {c.Training.BatchSize}, seed {c.Training.Seed}, ");
        sb.Append(CultureInfo.InvariantCulture, $"probe every {c.ProbeEvery} steps on a fixed batch of {c.ProbeBatch} training images. Machine: {result.Machine}.\n\n");
        sb.Append("| variant | probes | mean loss variation | mean max gradient change | mean beta-smoothness |\n|---|---|---|---|---|\n");
        foreach (var (variant, points) in result.Landscape)
        {
            if (points.Count == 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"| {variant} | 0 | - | - | - |\n");
                continue;
            }

            sb.Append(CultureInfo.InvariantCulture,
                $"| {variant} | {points.Count} | {points.Average(p => p.LossMax - p.LossMin):0.0000} | {points.Average(p => p.GradientChangeMax):0.0000} | {points.Average(p => p.BetaSmoothness):0.0000} |\n");
        }

        sb.Append("\nSanturkar et al. (2018) argue that BN makes the loss and its gradient change less along the gradient direction ");
        sb.Append("(smaller loss variation, more predictive gradients, smaller effective beta-smoothness):\n\n");
        sb.Append("![loss landscape](loss_landscape.png)\n\n![gradient predictiveness](gradient_predictiveness.png)\n\n![beta smoothness](beta_smoothness.png)\n\n");
        sb.Append("Activation drift (the \"internal covariate shift\" of Ioffe and Szegedy 2015): percentiles of each ReLU's input over training.\n\n");
        for (int r = 0; r < relus; r++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"![ReLU {r + 1}](drift_relu{r}.png)\n\n");
        }

        sb.Append("Exact configuration:\n\n```json\n").Append(JsonSerializer.Serialize(c, RunFolder.Json)).Append("\n```\n");
        return sb.ToString();
    }
}
