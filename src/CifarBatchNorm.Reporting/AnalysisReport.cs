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
        string over = SeedsPhrase(result);
        ChartSeries Line(int v, Func<LandscapePoint, double> mid, Func<LandscapePoint, double> low, Func<LandscapePoint, double> high)
        {
            var (steps, mean, lower, upper) = AnalysisSummary.PerStep(result.Landscape[variants[v]], p => p.Step, mid, low, high);
            return new ChartSeries(variants[v], steps, mean, lower, upper, ColorIndex: v);
        }

        // Losses of BN and no-BN models differ by orders of magnitude along the gradient: a log scale shows both.
        Charts.Lines(File("loss_landscape"), $"Loss landscape, {dataset}: L(w - eta g), band = range over eta{over}", "training step", "loss",
            variants.Select((_, v) => Line(v, p => p.Loss, p => p.LossMin, p => p.LossMax)).ToList(), integerX: false, logY: true);
        Charts.Lines(File("gradient_predictiveness"), $"Gradient predictiveness, {dataset}: max over eta of ||grad L(w) - grad L(w - eta g)||{BandPhrase(result)}",
            "training step", "gradient change", variants.Select((_, v) => Line(v, p => p.GradientChangeMax, p => p.GradientChangeMax, p => p.GradientChangeMax)).ToList(),
            integerX: false);
        Charts.Lines(File("beta_smoothness"), $"Effective beta-smoothness, {dataset}{BandPhrase(result)}", "training step", "max ||grad change|| / ||eta g||",
            variants.Select((_, v) => Line(v, p => p.BetaSmoothness, p => p.BetaSmoothness, p => p.BetaSmoothness)).ToList(), integerX: false);

        int relus = Relus(result);
        for (int r = 0; r < relus; r++)
        {
            var series = new List<ChartSeries>();
            int v = 0;
            foreach (var (variant, points) in result.Drift)
            {
                var steps = points.Where(p => p.Relu == r).GroupBy(p => p.Step).OrderBy(g => g.Key).ToArray();
                series.Add(new ChartSeries($"{variant} median (band 15th-85th)", [.. steps.Select(g => (double)g.Key)], [.. steps.Select(g => g.Average(p => p.P50))],
                    [.. steps.Select(g => g.Average(p => p.P15))], [.. steps.Select(g => g.Average(p => p.P85))], ColorIndex: v++));
            }

            Charts.Lines(File(DriftPlot(r)), $"Input of {ReluName(r)}, {dataset}: 15th, 50th, 85th percentiles over training{MeanPhrase(result)}", "training step",
                "pre-activation value", series, integerX: false);
        }

        int weighted = IcsPlots(folderPath, result, dataset);
        var sections = Sections(result, relus, weighted);
        IO.AtomicFile.WriteAllText(File("analysis.md"), Markdown(result, dataset, sections));
        Html(result, dataset, sections, folderPath).Save(File("analysis.html"));
    }

    private static string SeedsPhrase(AnalyzeResult result) =>
        AnalysisSummary.Seeds(result).Count > 1 ? " and seeds, line = mean over seeds" : "";

    private static string BandPhrase(AnalyzeResult result) =>
        AnalysisSummary.Seeds(result).Count > 1 ? ", mean over seeds, band = range over seeds" : "";

    private static string MeanPhrase(AnalyzeResult result) =>
        AnalysisSummary.Seeds(result).Count > 1 ? " (means over seeds)" : "";

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
                var (steps, mean, low, high) = AnalysisSummary.PerStep(points.Where(p => p.LayerIndex == l), p => p.Step, p => p.RelativeChange, p => p.RelativeChange, p => p.RelativeChange);
                series.Add(new ChartSeries(variant, steps, mean, low, high, ColorIndex: v++));
            }

            Charts.Lines(Path.Combine(folderPath, IcsPlot(l)), $"ICS of {IcsLayerName(result, l)}, {dataset}: ||G - G'|| / ||G||{BandPhrase(result)}", "training step",
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

    /// <summary>The variant the others are compared with: <c>none</c> when measured, else the first.</summary>
    internal static string Reference(IEnumerable<string> variants)
    {
        var all = variants.ToArray();
        return all.Contains("none", StringComparer.Ordinal) ? "none" : all.FirstOrDefault() ?? "";
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Setup(AnalyzeResult result)
    {
        var c = result.Config;
        var seeds = AnalysisSummary.Seeds(result);
        string seedText = seeds.Count == 1 ? string.Create(CultureInfo.InvariantCulture, $"seed {seeds[0]}") : string.Create(CultureInfo.InvariantCulture, $"{seeds.Count} seeds ({string.Join(", ", seeds)}) per variant; all variants of a seed start from the same draws");
        string phases = string.Join(" and ", AnalysisSummary.Phases(result).Select(p => p.Label));
        string made = result.Provenance is { } p ? $" Made by {p}." : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{result.Dataset} {c.Training.Epochs} epochs, batch {c.Training.BatchSize}, {seedText}; probe every {c.ProbeEvery} steps on a fixed batch of {c.ProbeBatch} training images. Training is reported in two halves: {phases}. Machine: {result.Machine}.{made}");
    }

    private const string SmoothnessNote = "Santurkar et al. (2018) argue that BN makes the loss and its gradient change less along the gradient direction "
        + "(smaller loss variation, more predictive gradients, smaller effective beta-smoothness). Each cell is the mean over seeds of each run's mean "
        + "over the phase's probes, with the seeds' range in brackets. \"Seeds lower\" counts the seeds whose phase mean is below the reference's "
        + "(paired: same seed); \"probes lower\" counts the probes (same seed and step) where the value is. The counts are descriptive: probes "
        + "of one run are not independent, and with n seeds an exact two-sided sign-flip test of the seed means cannot go below p = 2 / 2^n "
        + "(0.25 at n = 3).";

    private const string DriftNote = "Activation drift (the \"internal covariate shift\" of Ioffe and Szegedy 2015, Figure 1): percentiles of each ReLU's "
        + "input on the fixed probe batch over training. ReLUs are counted from 0 in model order, as the file names are. In the notebook's order "
        + "(Conv2D or Dense with its ReLU, then BatchNormalization) the ReLU's input is the layer's output before any normalization: BN "
        + "normalizes the next layer's input, not this one. And because ReLU is positively homogeneous, BN(ReLU(c Wx)) = BN(ReLU(Wx)) for c > 0, "
        + "so the loss does not depend on the scale of those weights and nothing holds their scale (or that of the ReLU's input) in place. "
        + "Ioffe and Szegedy's Figure 1 puts BN before the nonlinearity, where its input is normalized by construction. So the table separates "
        + "scale from shape: the spread (85th minus 15th percentile) at the first and the last probe, and how far the median moves within each "
        + "phase in units of the phase's mean spread (|median at its last probe - median at its first| / mean spread), means over seeds.";

    private const string IcsNote = "Internal covariate shift as Santurkar et al. (2018, section 2) measure it. For layer i at a probed step, G is the "
        + "gradient of the loss on the probe batch with respect to layer i's weights with every layer at its weights before the step; G' is the "
        + "same gradient after only the layers before i have taken the step's update. A large ||G - G'|| and a cosine far below 1 mean the layer's "
        + "problem shifts when the earlier layers move. Santurkar et al. report that BN does not reduce it (and can increase it). The first layer has "
        + "no earlier layers (G' = G) and is left out. Cells: mean over seeds of each run's phase mean (seeds' range); \"seeds higher\" and "
        + "\"probes higher\" count, paired by seed (and step), where the variant's relative change is above the reference's.";

    private sealed record Block(string? Heading = null, string? Text = null, IReadOnlyList<string>? Headers = null, IReadOnlyList<IReadOnlyList<string>>? Rows = null,
        string? Figure = null, string? Caption = null, string? Alt = null);

    private static readonly (string Name, Func<LandscapePoint, double> Value)[] Measures =
    [
        ("loss variation", p => p.LossMax - p.LossMin),
        ("max gradient change", p => p.GradientChangeMax),
        ("beta-smoothness", p => p.BetaSmoothness),
    ];

    private static List<Block> Sections(AnalyzeResult result, int relus, int weighted)
    {
        var phases = AnalysisSummary.Phases(result);
        string reference = Reference(result.Landscape.Keys);
        var others = result.Landscape.Keys.Where(v => v != reference).ToArray();
        var blocks = new List<Block>();

        var headers = new List<string> { "measure", "phase" };
        headers.AddRange(result.Landscape.Keys);
        foreach (string v in others)
        {
            headers.Add($"{v} lower than {reference}: seeds");
            headers.Add("probes");
        }

        var rows = new List<IReadOnlyList<string>>();
        foreach (var (name, value) in Measures)
        {
            foreach (var phase in phases)
            {
                var row = new List<string> { name, phase.Label };
                row.AddRange(result.Landscape.Values.Select(points => AnalysisSummary.Of(AnalysisSummary.SeedMeans(points, phase, p => p.Step, p => p.Seed, value))?.Format("0.0000") ?? "-"));
                foreach (string v in others)
                {
                    var below = AnalysisSummary.CountBelow(result.Landscape[v], result.Landscape[reference], phase, p => p.Step, p => p.Seed, value);
                    row.Add(below.SeedsText);
                    row.Add(below.ProbesText);
                }

                rows.Add(row);
            }
        }

        blocks.Add(new Block(Heading: "Smoothness of the loss landscape (Santurkar et al.)"));
        blocks.Add(new Block(Headers: headers, Rows: rows));
        blocks.Add(new Block(Text: SmoothnessNote + " The loss plot is on a log scale."));
        blocks.Add(new Block(Figure: "loss_landscape", Alt: "loss landscape", Caption: "Loss along the gradient, L(w - eta g), on a log scale; band = range over the step sizes eta (and seeds)."));
        blocks.Add(new Block(Figure: "gradient_predictiveness", Alt: "gradient predictiveness", Caption: "Gradient predictiveness: the largest change of the gradient along the step; band = range over seeds."));
        blocks.Add(new Block(Figure: "beta_smoothness", Alt: "beta smoothness", Caption: "Effective beta-smoothness: the largest gradient change per unit of step; band = range over seeds."));

        blocks.Add(new Block(Heading: "Activation drift (Ioffe and Szegedy)"));
        blocks.Add(new Block(Text: DriftNote));
        var driftRows = new List<IReadOnlyList<string>>();
        for (int r = 0; r < relus; r++)
        {
            foreach (var (variant, points) in result.Drift)
            {
                var relu = points.Where(p => p.Relu == r).ToArray();
                if (relu.Length == 0)
                {
                    continue;
                }

                var bySeed = relu.GroupBy(p => p.Seed).Select(g => g.OrderBy(p => p.Step).ToArray()).ToArray();
                var row = new List<string> { ReluName(r), relu[0].Layer, variant,
                    F(bySeed.Average(s => s[0].P85 - s[0].P15), "0.000"), F(bySeed.Average(s => s[^1].P85 - s[^1].P15), "0.000") };
                foreach (var phase in phases)
                {
                    var shifts = bySeed.Select(s => s.Where(p => phase.Contains(p.Step)).ToArray()).Where(s => s.Length > 0)
                        .Select(s => Math.Abs(s[^1].P50 - s[0].P50) / Math.Max(s.Average(p => p.P85 - p.P15), 1e-12)).ToArray();
                    row.Add(shifts.Length == 0 ? "-" : F(shifts.Average(), "0.000"));
                }

                driftRows.Add(row);
            }
        }

        var driftHeaders = new List<string> { "ReLU", "layer", "variant", "spread, first probe", "spread, last probe" };
        driftHeaders.AddRange(phases.Select(p => $"median shift / spread, {p.Name}"));
        blocks.Add(new Block(Headers: driftHeaders, Rows: driftRows));
        for (int r = 0; r < relus; r++)
        {
            blocks.Add(new Block(Figure: DriftPlot(r), Alt: ReluName(r), Caption: $"Input of {ReluName(r)}: median, band = 15th to 85th percentile{MeanPhrase(result)}."));
        }

        if (weighted > 1)
        {
            blocks.Add(new Block(Heading: "Internal covariate shift (Santurkar et al.)"));
            blocks.Add(new Block(Text: IcsNote));
            string icsReference = Reference(result.Ics.Keys);
            var icsOthers = result.Ics.Keys.Where(v => v != icsReference).ToArray();
            var icsHeaders = new List<string> { "layer", "phase" };
            icsHeaders.AddRange(result.Ics.Keys.Select(v => $"{v}: ||G - G'|| / ||G||"));
            icsHeaders.AddRange(result.Ics.Keys.Select(v => $"{v}: cos(G, G')"));
            foreach (string v in icsOthers)
            {
                icsHeaders.Add($"{v} higher than {icsReference}: seeds");
                icsHeaders.Add("probes");
            }

            var icsRows = new List<IReadOnlyList<string>>();
            for (int l = 1; l < weighted; l++)
            {
                foreach (var phase in phases)
                {
                    var row = new List<string> { IcsLayerName(result, l), phase.Label };
                    var layer = result.Ics.ToDictionary(kv => kv.Key, kv => kv.Value.Where(p => p.LayerIndex == l).ToArray(), StringComparer.Ordinal);
                    row.AddRange(layer.Values.Select(points => AnalysisSummary.Of(AnalysisSummary.SeedMeans(points, phase, p => p.Step, p => p.Seed, p => p.RelativeChange))?.Format("0.0000") ?? "-"));
                    row.AddRange(layer.Values.Select(points => AnalysisSummary.Of(AnalysisSummary.SeedMeans(points, phase, p => p.Step, p => p.Seed, p => p.Cosine))?.Format("0.0000") ?? "-"));
                    foreach (string v in icsOthers)
                    {
                        // higher = the reference is below the variant.
                        var higher = AnalysisSummary.CountBelow(layer[icsReference], layer[v], phase, p => p.Step, p => p.Seed, p => p.RelativeChange);
                        row.Add(higher.SeedsText);
                        row.Add(higher.ProbesText);
                    }

                    icsRows.Add(row);
                }
            }

            blocks.Add(new Block(Headers: icsHeaders, Rows: icsRows));
            for (int l = 1; l < weighted; l++)
            {
                blocks.Add(new Block(Figure: IcsPlot(l), Alt: $"ICS of {IcsLayerName(result, l)}", Caption: $"ICS of {IcsLayerName(result, l)}: relative gradient change per probed step{BandPhrase(result)}."));
            }
        }

        if (result.Runs.Count > 0)
        {
            blocks.Add(new Block(Heading: "Runs"));
            blocks.Add(new Block(Text: "Each run's accuracy on the test set after its last epoch (the runs measure the landscape; no epoch or setting was selected on the test set)."));
            blocks.Add(new Block(Headers: ["variant", "seed", "final test accuracy"],
                Rows: result.Runs.Select(r => (IReadOnlyList<string>)[r.Variant, r.Seed.ToString(CultureInfo.InvariantCulture), F(r.FinalTestAccuracy, "0.0000")]).ToList()));
        }

        return blocks;
    }

    private static string Markdown(AnalyzeResult result, string dataset, IReadOnlyList<Block> blocks)
    {
        static string Cell(string text) => text.Replace("||", "\\|\\|", StringComparison.Ordinal);
        var sb = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"# Why BN helps: landscape, activation drift and ICS on {dataset}\n\n"));
        sb.Append(Setup(result)).Append("\n\n");
        foreach (var block in blocks)
        {
            if (block.Heading is { } heading)
            {
                sb.Append("## ").Append(heading).Append("\n\n");
            }
            else if (block.Text is { } text)
            {
                sb.Append(text).Append("\n\n");
            }
            else if (block.Headers is { } headers)
            {
                sb.Append("| ").Append(string.Join(" | ", headers.Select(Cell))).Append(" |\n").Append(string.Concat(Enumerable.Repeat("|---", headers.Count))).Append("|\n");
                foreach (var row in block.Rows!)
                {
                    sb.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
                }

                sb.Append('\n');
            }
            else if (block.Figure is { } figure)
            {
                sb.Append(CultureInfo.InvariantCulture, $"![{block.Alt}]({figure}.png)\n\n");
            }
        }

        sb.Append("The same report as one file with the plots inside: [analysis.html](analysis.html).\n\n");
        sb.Append("Exact configuration:\n\n```json\n").Append(JsonSerializer.Serialize(result.Config, RunFolder.Json)).Append("\n```\n");
        return sb.ToString();
    }

    private static HtmlReport Html(AnalyzeResult result, string dataset, IReadOnlyList<Block> blocks, string folder)
    {
        var html = new HtmlReport($"Why BN helps: landscape, activation drift and ICS on {dataset}").Paragraph(Setup(result));
        foreach (var block in blocks)
        {
            if (block.Heading is { } heading)
            {
                html.Heading(heading);
            }
            else if (block.Text is { } text)
            {
                html.Paragraph(text);
            }
            else if (block.Headers is { } headers)
            {
                html.Table(headers, block.Rows!);
            }
            else if (block.Figure is { } figure)
            {
                html.Figure(Path.Combine(folder, figure + ".svg"), block.Caption!);
            }
        }

        return html.Heading("Exact configuration").Code(JsonSerializer.Serialize(result.Config, RunFolder.Json));
    }
}
