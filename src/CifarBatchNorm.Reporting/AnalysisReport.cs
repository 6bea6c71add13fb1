using System.Globalization;
using System.Text;
using System.Text.Json;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Reporting;

/// <summary>Writes the plots (PNG and SVG) and <c>analysis.md</c> of an <c>analyze</c> run from its measurements (<see cref="AnalyzeResult"/>).</summary>
public static class AnalysisReport
{
    /// <summary>Writes the plots and <c>analysis.md</c> of <paramref name="result"/> into the folder <paramref name="folderPath"/>.</summary>
    public static void Write(string folderPath, AnalyzeResult result)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderPath);
        ArgumentNullException.ThrowIfNull(result);
        string File(string name) => Path.Combine(folderPath, name);
        var variants = result.Landscape.Keys.ToArray();
        ChartSeries Band(int v, Func<LandscapePoint, double> mid, Func<LandscapePoint, double> low, Func<LandscapePoint, double> high)
        {
            var points = result.Landscape[variants[v]];
            return new ChartSeries(variants[v], points.Select(p => (double)p.Step).ToArray(), points.Select(mid).ToArray(),
                points.Select(low).ToArray(), points.Select(high).ToArray(), ColorIndex: v);
        }

        Charts.Lines(File("loss_landscape"), "Loss landscape: L(w - eta g), band = range over eta (loss variation)", "training step", "loss",
            variants.Select((_, v) => Band(v, p => p.Loss, p => p.LossMin, p => p.LossMax)).ToList(), integerX: false);
        Charts.Lines(File("gradient_predictiveness"), "Gradient predictiveness: ||grad L(w) - grad L(w - eta g)||, band = range over eta",
            "training step", "gradient change", variants.Select((_, v) => Band(v, p => (p.GradientChangeMin + p.GradientChangeMax) / 2, p => p.GradientChangeMin, p => p.GradientChangeMax)).ToList(),
            integerX: false);
        Charts.Lines(File("beta_smoothness"), "Effective beta-smoothness", "training step", "max ||grad change|| / ||eta g||",
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

            Charts.Lines(File($"drift_relu{r}"), $"Input of ReLU {r + 1}: 15th, 50th, 85th percentiles over training", "training step", "pre-activation value",
                series, integerX: false);
        }

        IO.AtomicFile.WriteAllText(File("analysis.md"), Markdown(result, relus));
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
