using System.Globalization;
using System.Text;
using System.Text.Json;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Reporting;

/// <summary>
/// Writes a comparison's plots (PNG and SVG), <c>report.md</c> and the single-file <c>report.html</c> from its rows
/// (<see cref="CompareResult"/>). Every chart names the dataset in its title.
/// </summary>
public static class CompareReport
{
    /// <summary>The plots a comparison writes (file names without extension), in report order.</summary>
    internal static readonly string[] Plots = ["val_accuracy", "train_loss", "train_vs_val", "final_accuracy"];

    /// <summary>Writes the plots, <c>report.md</c> and <c>report.html</c> of <paramref name="result"/> into the folder <paramref name="folderPath"/>.</summary>
    public static void Write(string folderPath, CompareResult result)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderPath);
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(folderPath);
        string File(string name) => Path.Combine(folderPath, name);
        string[] variants = result.Summaries.Select(s => s.Variant).ToArray();
        string dataset = DatasetOf(result);
        int seeds = result.Config.Seeds;

        Charts.Lines(File("val_accuracy"), $"Validation accuracy, {dataset} (mean; band = min-max over {seeds} seed(s))", "epoch", "validation accuracy",
            Bands(result.Epochs, variants, r => r.ValAccuracy));
        Charts.Lines(File("train_loss"), $"Training loss, {dataset} (mean; band = min-max over {seeds} seed(s))", "epoch", "training loss",
            Bands(result.Epochs, variants, r => r.Loss));
        var trainVsVal = Bands(result.Epochs, variants, r => r.Accuracy).Select(s => s with { Name = s.Name + " train", Lower = null, Upper = null })
            .Concat(Bands(result.Epochs, variants, r => r.ValAccuracy).Select(s => s with { Name = s.Name + " validation", Secondary = true, Lower = null, Upper = null }))
            .ToList();
        Charts.Lines(File("train_vs_val"), $"Training (thick, filled) vs validation (thin, open) accuracy, {dataset}", "epoch", "accuracy", trainVsVal);
        var finals = FinalAccuracies(result, variants);
        var intervals = finals.Select(ConfidenceInterval.Mean95).ToList();
        Charts.Intervals(File("final_accuracy"), $"Final test accuracy, {dataset} ({seeds} seed(s) as dots)",
            "normalization variant", "test accuracy (mean, 95% CI)", variants, intervals.Select(i => i.Mean).ToList(), intervals.Select(i => i.HalfWidth).ToList(), finals);
        IO.AtomicFile.WriteAllText(File("report.md"), Markdown(result, dataset, intervals));
        Html(result, dataset, intervals, folderPath).Save(File("report.html"));
    }

    /// <summary>Mean and min-max band per variant of one quantity, over seeds, per epoch.</summary>
    internal static List<ChartSeries> Bands(IReadOnlyList<EpochResult> rows, IReadOnlyList<string> variants, Func<EpochResult, double> value)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(variants);
        var series = new List<ChartSeries>();
        for (int v = 0; v < variants.Count; v++)
        {
            var byEpoch = rows.Where(r => r.Variant == variants[v]).GroupBy(r => r.Epoch).OrderBy(g => g.Key).ToList();
            series.Add(new ChartSeries(
                variants[v],
                byEpoch.Select(g => (double)g.Key).ToArray(),
                byEpoch.Select(g => g.Average(value)).ToArray(),
                byEpoch.Select(g => g.Min(value)).ToArray(),
                byEpoch.Select(g => g.Max(value)).ToArray(),
                ColorIndex: v));
        }

        return series;
    }

    /// <summary>The dataset's name for titles: the recorded one, else the configured one.</summary>
    internal static string DatasetOf(CompareResult result) =>
        result.DatasetName.Length > 0 ? result.DatasetName : DatasetSelector.DisplayName(result.Config.Training.Dataset);

    /// <summary>Each variant's final validation (= test) accuracy of every seed.</summary>
    private static List<IReadOnlyList<double>> FinalAccuracies(CompareResult result, IReadOnlyList<string> variants) =>
        variants.Select(v => (IReadOnlyList<double>)result.Epochs.Where(r => r.Variant == v).GroupBy(r => r.Seed)
            .Select(g => g.MaxBy(r => r.Epoch)!.ValAccuracy).ToList()).ToList();

    private static List<IReadOnlyList<string>> Rows(CompareResult result, IReadOnlyList<(double Mean, double HalfWidth)> intervals)
    {
        var c = result.Config;
        return result.Summaries.Select((s, i) =>
        {
            string target = s.EpochsToTargetMean is double e
                ? string.Create(CultureInfo.InvariantCulture, $"{e:0.0} ({s.SeedsReachingTarget}/{c.Seeds} seeds)")
                : "not reached";
            var (mean, half) = intervals[i];
            return (IReadOnlyList<string>)
            [
                s.Variant,
                string.Create(CultureInfo.InvariantCulture, $"{s.FinalAccuracyMean:0.0000} ± {s.FinalAccuracyStd:0.0000}"),
                c.Seeds > 1 ? string.Create(CultureInfo.InvariantCulture, $"{mean - half:0.0000} to {mean + half:0.0000}") : "-",
                target,
                string.Create(CultureInfo.InvariantCulture, $"{s.SecondsPerEpoch:0.0}"),
            ];
        }).ToList();
    }

    private static string[] Headers(CompareResult result) =>
    [
        "variant", "final test accuracy (mean ± std)", "95% confidence interval",
        string.Create(CultureInfo.InvariantCulture, $"epochs to {result.Config.TargetAccuracy:0.###} val accuracy"), "seconds per epoch",
    ];

    private static string Setup(CompareResult result)
    {
        var c = result.Config;
        return string.Create(CultureInfo.InvariantCulture,
            $"{result.Dataset} {c.Seeds} seed(s) per variant, {c.Training.Epochs} epochs, batch {c.Training.BatchSize}, Adam {c.Training.LearningRate}, BN momentum {c.Training.BnMomentum}. Machine: {result.Machine}.");
    }

    private const string LagNote = "With BN momentum 0.99 (Keras's default) the moving statistics lag the weights in the first epochs, so validation "
        + "accuracy of the BN variants starts far below training accuracy; with a BN momentum of 0.9 (TrainConfig.BnMomentum) the gap closes sooner.";

    private const string IntervalNote = "Points with 95% confidence intervals of the mean over seeds (Student's t); the dots are the seeds. "
        + "The axis fits the data and does not start at 0: compare the intervals, not heights.";

    private static string Markdown(CompareResult result, string dataset, IReadOnlyList<(double Mean, double HalfWidth)> intervals)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# Batch Normalization variants compared on {dataset}\n\n");
        sb.Append(Setup(result)).Append("\n\n");
        var headers = Headers(result);
        sb.Append("| ").Append(string.Join(" | ", headers)).Append(" |\n");
        sb.Append(string.Concat(Enumerable.Repeat("|---", headers.Length))).Append("|\n");
        foreach (var row in Rows(result, intervals))
        {
            sb.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        }

        sb.Append("\nValidation accuracy per epoch:\n\n![validation accuracy](val_accuracy.png)\n\n");
        sb.Append("Training loss per epoch:\n\n![training loss](train_loss.png)\n\n");
        sb.Append("Training (thick lines, filled markers) vs validation (thin lines, open markers) accuracy. ").Append(LagNote);
        sb.Append("\n\n![train vs validation](train_vs_val.png)\n\n");
        sb.Append("Final test accuracy. ").Append(IntervalNote).Append("\n\n![final accuracy](final_accuracy.png)\n\n");
        sb.Append("The same report as one file with the plots inside: [report.html](report.html).\n\n");
        sb.Append("Exact configuration:\n\n```json\n").Append(JsonSerializer.Serialize(result.Config, RunFolder.Json)).Append("\n```\n");
        return sb.ToString();
    }

    private static HtmlReport Html(CompareResult result, string dataset, IReadOnlyList<(double Mean, double HalfWidth)> intervals, string folder)
    {
        string Svg(string name) => Path.Combine(folder, name + ".svg");
        return new HtmlReport($"Batch Normalization variants compared on {dataset}")
            .Paragraph(Setup(result))
            .Table(Headers(result), Rows(result, intervals))
            .Figure(Svg("val_accuracy"), "Validation accuracy per epoch: mean over seeds, band = min-max.")
            .Figure(Svg("train_loss"), "Training loss per epoch: mean over seeds, band = min-max.")
            .Figure(Svg("train_vs_val"), "Training (thick lines, filled markers) vs validation (thin lines, open markers) accuracy. " + LagNote)
            .Figure(Svg("final_accuracy"), "Final test accuracy. " + IntervalNote)
            .Heading("Exact configuration")
            .Code(JsonSerializer.Serialize(result.Config, RunFolder.Json));
    }
}
