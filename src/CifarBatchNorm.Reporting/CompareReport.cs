using System.Globalization;
using System.Text;
using System.Text.Json;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Reporting;

/// <summary>Writes a comparison's plots (PNG and SVG) and <c>report.md</c> from its rows (<see cref="CompareResult"/>).</summary>
public static class CompareReport
{
    /// <summary>Writes the plots and <c>report.md</c> of <paramref name="result"/> into the folder <paramref name="folderPath"/>.</summary>
    public static void Write(string folderPath, CompareResult result)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderPath);
        ArgumentNullException.ThrowIfNull(result);
        string File(string name) => Path.Combine(folderPath, name);
        string[] variants = result.Summaries.Select(s => s.Variant).ToArray();

        Charts.Lines(File("val_accuracy"), "Validation accuracy (mean, band = min-max over seeds)", "epoch", "validation accuracy",
            Bands(result.Epochs, variants, r => r.ValAccuracy));
        Charts.Lines(File("train_loss"), "Training loss (mean, band = min-max over seeds)", "epoch", "training loss",
            Bands(result.Epochs, variants, r => r.Loss));
        var trainVsVal = Bands(result.Epochs, variants, r => r.Accuracy).Select(s => s with { Name = s.Name + " train", Lower = null, Upper = null })
            .Concat(Bands(result.Epochs, variants, r => r.ValAccuracy).Select(s => s with { Name = s.Name + " validation", Secondary = true, Lower = null, Upper = null }))
            .ToList();
        Charts.Lines(File("train_vs_val"), "Training (thick) vs validation (thin, open markers) accuracy", "epoch", "accuracy", trainVsVal);
        Charts.Bars(File("final_accuracy"), "Final test accuracy (error bar = std over seeds)", "test accuracy",
            variants, result.Summaries.Select(s => s.FinalAccuracyMean).ToArray(), result.Summaries.Select(s => s.FinalAccuracyStd).ToArray());
        IO.AtomicFile.WriteAllText(File("report.md"), Markdown(result));
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

    private static string Markdown(CompareResult result)
    {
        var c = result.Config;
        var sb = new StringBuilder();
        sb.Append("# Batch Normalization variants compared\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"{result.Dataset} {c.Seeds} seed(s) per variant, {c.Training.Epochs} epochs, batch {c.Training.BatchSize}, ");
        sb.Append(CultureInfo.InvariantCulture, $"Adam {c.Training.LearningRate}, BN momentum {c.Training.BnMomentum}. Machine: {result.Machine}.\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"| variant | final test accuracy (mean ± std) | epochs to {c.TargetAccuracy:0.###} val accuracy | seconds per epoch |\n");
        sb.Append("|---|---|---|---|\n");
        foreach (var s in result.Summaries)
        {
            string target = s.EpochsToTargetMean is double e
                ? string.Create(CultureInfo.InvariantCulture, $"{e:0.0} ({s.SeedsReachingTarget}/{c.Seeds} seeds)")
                : "not reached";
            sb.Append(CultureInfo.InvariantCulture, $"| {s.Variant} | {s.FinalAccuracyMean:0.0000} ± {s.FinalAccuracyStd:0.0000} | {target} | {s.SecondsPerEpoch:0.0} |\n");
        }

        sb.Append("\nValidation accuracy per epoch:\n\n![validation accuracy](val_accuracy.png)\n\n");
        sb.Append("Training loss per epoch:\n\n![training loss](train_loss.png)\n\n");
        sb.Append("Training (thick lines) vs validation (thin lines, open markers) accuracy. With BN momentum 0.99 (Keras's default) the moving statistics lag the ");
        sb.Append("weights in the first epochs, so validation accuracy of the BN variants starts far below training accuracy; ");
        sb.Append("with a BN momentum of 0.9 (`TrainConfig.BnMomentum`) the gap closes sooner:\n\n![train vs validation](train_vs_val.png)\n\n");
        sb.Append("Final test accuracy:\n\n![final accuracy](final_accuracy.png)\n\n");
        sb.Append("Exact configuration:\n\n```json\n").Append(JsonSerializer.Serialize(c, RunFolder.Json)).Append("\n```\n");
        return sb.ToString();
    }
}
