using System.Globalization;
using System.Text;
using System.Text.Json;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Reporting;

/// <summary>
/// Writes the plots (PNG and SVG), <c>analysis.md</c> and the single-file <c>analysis.html</c> of an <c>analyze</c>
/// run from its measurements (<see cref="AnalyzeResult"/>). Every chart names the dataset in its title; the drift
/// plot of ReLU n (counted from 0, in model order) is <c>drift_relu{n}</c> and is titled "ReLU n".
/// </summary>
public static class AnalysisReport
{
    /// <summary>Writes the plots, <c>analysis.md</c> and <c>analysis.html</c> of <paramref name="result"/> into the folder <paramref name="folderPath"/>.</summary>
    public static void Write(string folderPath, AnalyzeResult result)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderPath);
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(folderPath);
        string File(string name) => Path.Combine(folderPath, name);
        var variants = result.Landscape.Keys.ToArray();
        string dataset = DatasetOf(result);
        ChartSeries Band(int v, Func<LandscapePoint, double> mid, Func<LandscapePoint, double> low, Func<LandscapePoint, double> high)
        {
            var points = result.Landscape[variants[v]];
            return new ChartSeries(variants[v], points.Select(p => (double)p.Step).ToArray(), points.Select(mid).ToArray(),
                points.Select(low).ToArray(), points.Select(high).ToArray(), ColorIndex: v);
        }

        // Losses of BN and no-BN models differ by orders of magnitude along the gradient: a log scale shows both.
        Charts.Lines(File("loss_landscape"), $"Loss landscape, {dataset}: L(w - eta g), band = range over eta", "training step", "loss",
            variants.Select((_, v) => Band(v, p => p.Loss, p => p.LossMin, p => p.LossMax)).ToList(), integerX: false, logY: true);
        Charts.Lines(File("gradient_predictiveness"), $"Gradient predictiveness, {dataset}: ||grad L(w) - grad L(w - eta g)||",
            "training step", "gradient change", variants.Select((_, v) => Band(v, p => (p.GradientChangeMin + p.GradientChangeMax) / 2, p => p.GradientChangeMin, p => p.GradientChangeMax)).ToList(),
            integerX: false);
        Charts.Lines(File("beta_smoothness"), $"Effective beta-smoothness, {dataset}", "training step", "max ||grad change|| / ||eta g||",
            variants.Select((_, v) => Band(v, p => p.BetaSmoothness, p => p.BetaSmoothness, p => p.BetaSmoothness) with { Lower = null, Upper = null }).ToList(),
            integerX: false);

        int relus = Relus(result);
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

            Charts.Lines(File(DriftPlot(r)), $"Input of {ReluName(r)}, {dataset}: 15th, 50th, 85th percentiles over training", "training step",
                "pre-activation value", series, integerX: false);
        }

        int weighted = IcsPlots(folderPath, result, dataset);
        IO.AtomicFile.WriteAllText(File("analysis.md"), Markdown(result, dataset, relus, weighted));
        Html(result, dataset, relus, weighted, folderPath).Save(File("analysis.html"));
    }

    /// <summary>One plot per Conv2D/Dense layer after the first: ||G - G'|| / ||G|| over training per variant (Santurkar et al. 2018, section 2); returns the layer count.</summary>
    private static int IcsPlots(string folderPath, AnalyzeResult result, string dataset)
    {
        int layers = WeightedLayers(result);
        for (int l = 1; l < layers; l++)
        {
            var series = new List<ChartSeries>();
            int v = 0;
            foreach (var (variant, points) in result.Ics)
            {
                var layer = points.Where(p => p.LayerIndex == l).ToArray();
                series.Add(new ChartSeries(variant, layer.Select(p => (double)p.Step).ToArray(), layer.Select(p => p.RelativeChange).ToArray(), ColorIndex: v++));
            }

            Charts.Lines(Path.Combine(folderPath, IcsPlot(l)), $"ICS of {IcsLayerName(result, l)}, {dataset}: ||G - G'|| / ||G||", "training step",
                "relative gradient change", series, integerX: false);
        }

        return layers;
    }

    /// <summary>How many weighted layers (Conv2D, Dense) the ICS probe measured.</summary>
    internal static int WeightedLayers(AnalyzeResult result) =>
        result.Ics.Values.Select(d => d.Count == 0 ? 0 : d.Max(p => p.LayerIndex) + 1).DefaultIfEmpty(0).Max();

    private static string IcsPlot(int layer) => string.Create(CultureInfo.InvariantCulture, $"ics_layer{layer}");

    private static string IcsLayerName(AnalyzeResult result, int layer) =>
        result.Ics.Values.SelectMany(p => p).FirstOrDefault(p => p.LayerIndex == layer)?.Layer ?? layer.ToString(CultureInfo.InvariantCulture);

    private const string IcsNote = "Internal covariate shift as Santurkar et al. (2018, section 2) measure it. For layer i at a probed step, G is the "
        + "gradient of the loss on the probe batch with respect to layer i's weights with every layer at its weights before the step; G' is the "
        + "same gradient after only the layers before i have taken the step's update. A large ||G - G'|| and a cosine far below 1 mean the layer's "
        + "problem shifts when the earlier layers move. Santurkar et al. report that BN does not reduce it (and can increase it). The first layer has "
        + "no earlier layers (G' = G) and is left out. Means over the probed steps:";

    private static readonly string[] IcsHeaders = ["layer", "variant", "mean ||G - G'||", "mean ||G - G'|| / ||G||", "mean cos(G, G')"];

    private static List<IReadOnlyList<string>> IcsRows(AnalyzeResult result, int layers)
    {
        var rows = new List<IReadOnlyList<string>>();
        for (int l = 1; l < layers; l++)
        {
            foreach (var (variant, points) in result.Ics)
            {
                var layer = points.Where(p => p.LayerIndex == l).ToArray();
                if (layer.Length > 0)
                {
                    rows.Add([layer[0].Layer, variant, F(layer.Average(p => p.Change), "0.000000"), F(layer.Average(p => p.RelativeChange), "0.0000"), F(layer.Average(p => p.Cosine), "0.0000")]);
                }
            }
        }

        return rows;
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The file name (without extension) of the drift plot of ReLU <paramref name="relu"/>.</summary>
    internal static string DriftPlot(int relu) => string.Create(CultureInfo.InvariantCulture, $"drift_relu{relu}");

    /// <summary>The name of ReLU <paramref name="relu"/> in titles and captions, the same number as its file.</summary>
    internal static string ReluName(int relu) => string.Create(CultureInfo.InvariantCulture, $"ReLU {relu}");

    /// <summary>How many ReLUs were probed.</summary>
    internal static int Relus(AnalyzeResult result) =>
        result.Drift.Values.Select(d => d.Count == 0 ? 0 : d.Max(p => p.Relu) + 1).DefaultIfEmpty(0).Max();

    /// <summary>The dataset's name for titles: the recorded one, else the configured one.</summary>
    internal static string DatasetOf(AnalyzeResult result) =>
        result.DatasetName.Length > 0 ? result.DatasetName : DatasetSelector.DisplayName(result.Config.Training.Dataset);

    private static string[] Headers => ["variant", "probes", "mean loss variation", "mean max gradient change", "mean beta-smoothness"];

    private static List<IReadOnlyList<string>> Rows(AnalyzeResult result) => result.Landscape.Select(kv => (IReadOnlyList<string>)(kv.Value.Count == 0
        ? [kv.Key, "0", "-", "-", "-"]
        :
        [
            kv.Key, kv.Value.Count.ToString(CultureInfo.InvariantCulture),
            kv.Value.Average(p => p.LossMax - p.LossMin).ToString("0.0000", CultureInfo.InvariantCulture),
            kv.Value.Average(p => p.GradientChangeMax).ToString("0.0000", CultureInfo.InvariantCulture),
            kv.Value.Average(p => p.BetaSmoothness).ToString("0.0000", CultureInfo.InvariantCulture),
        ])).ToList();

    private static string Setup(AnalyzeResult result)
    {
        var c = result.Config;
        return string.Create(CultureInfo.InvariantCulture,
            $"{result.Dataset} {c.Training.Epochs} epochs, batch {c.Training.BatchSize}, seed {c.Training.Seed}, probe every {c.ProbeEvery} steps on a fixed batch of {c.ProbeBatch} training images. Machine: {result.Machine}.");
    }

    private const string SmoothnessNote = "Santurkar et al. (2018) argue that BN makes the loss and its gradient change less along the gradient direction "
        + "(smaller loss variation, more predictive gradients, smaller effective beta-smoothness).";

    private const string DriftNote = "Activation drift (the \"internal covariate shift\" of Ioffe and Szegedy 2015): percentiles of each ReLU's input over "
        + "training. ReLUs are counted from 0 in model order, as the file names are.";

    private static string Markdown(AnalyzeResult result, string dataset, int relus, int weighted)
    {
        var sb = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"# Why BN helps: landscape and activation drift on {dataset}\n\n"));
        sb.Append(Setup(result)).Append("\n\n");
        sb.Append("| ").Append(string.Join(" | ", Headers)).Append(" |\n").Append(string.Concat(Enumerable.Repeat("|---", Headers.Length))).Append("|\n");
        foreach (var row in Rows(result))
        {
            sb.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        }

        sb.Append('\n').Append(SmoothnessNote).Append(" The loss is on a log scale.\n\n");
        sb.Append("![loss landscape](loss_landscape.png)\n\n![gradient predictiveness](gradient_predictiveness.png)\n\n![beta smoothness](beta_smoothness.png)\n\n");
        sb.Append(DriftNote).Append("\n\n");
        for (int r = 0; r < relus; r++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"![{ReluName(r)}]({DriftPlot(r)}.png)\n\n");
        }

        if (weighted > 1)
        {
            sb.Append("## Internal covariate shift (Santurkar et al.)\n\n").Append(IcsNote).Append("\n\n");
            sb.Append("| ").Append(string.Join(" | ", IcsHeaders).Replace("||", "\\|\\|", StringComparison.Ordinal)).Append(" |\n").Append(string.Concat(Enumerable.Repeat("|---", IcsHeaders.Length))).Append("|\n");
            foreach (var row in IcsRows(result, weighted))
            {
                sb.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
            }

            sb.Append('\n');
            for (int l = 1; l < weighted; l++)
            {
                sb.Append(CultureInfo.InvariantCulture, $"![ICS of {IcsLayerName(result, l)}]({IcsPlot(l)}.png)\n\n");
            }
        }

        sb.Append("The same report as one file with the plots inside: [analysis.html](analysis.html).\n\n");
        sb.Append("Exact configuration:\n\n```json\n").Append(JsonSerializer.Serialize(result.Config, RunFolder.Json)).Append("\n```\n");
        return sb.ToString();
    }

    private static HtmlReport Html(AnalyzeResult result, string dataset, int relus, int weighted, string folder)
    {
        string Svg(string name) => Path.Combine(folder, name + ".svg");
        var html = new HtmlReport($"Why BN helps: landscape and activation drift on {dataset}")
            .Paragraph(Setup(result))
            .Table(Headers, Rows(result))
            .Paragraph(SmoothnessNote)
            .Figure(Svg("loss_landscape"), "Loss along the gradient, L(w - eta g), on a log scale; band = range over the step sizes eta.")
            .Figure(Svg("gradient_predictiveness"), "Gradient predictiveness: how much the gradient changes along the step; band = range over eta.")
            .Figure(Svg("beta_smoothness"), "Effective beta-smoothness: the largest gradient change per unit of step.")
            .Heading("Activation drift")
            .Paragraph(DriftNote);
        for (int r = 0; r < relus; r++)
        {
            html.Figure(Svg(DriftPlot(r)), $"Input of {ReluName(r)}: median, band = 15th to 85th percentile.");
        }

        if (weighted > 1)
        {
            html.Heading("Internal covariate shift (Santurkar et al.)").Paragraph(IcsNote).Table(IcsHeaders, IcsRows(result, weighted));
            for (int l = 1; l < weighted; l++)
            {
                html.Figure(Svg(IcsPlot(l)), $"ICS of {IcsLayerName(result, l)}: relative gradient change per probed step.");
            }
        }

        return html.Heading("Exact configuration").Code(JsonSerializer.Serialize(result.Config, RunFolder.Json));
    }
}
