using System.Globalization;
using System.Text;
using System.Text.Json;
using CifarBatchNorm.Reporting;

namespace CifarBatchNorm.Experiments;

/// <summary>Writes a comparison's <c>results.json</c>, <c>results.csv</c>, plots (PNG and SVG) and <c>report.md</c>.</summary>
public static class CompareReport
{
    /// <summary>Writes every file of <paramref name="result"/> into <paramref name="folder"/>.</summary>
    public static void Write(RunFolder folder, CompareResult result)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(result);
        folder.WriteJson("results.json", result);
        folder.WriteText("results.csv", Csv(result.Epochs));
        string[] variants = result.Summaries.Select(s => s.Variant).ToArray();

        Charts.Lines(folder.File("val_accuracy"), "Validation accuracy (mean, band = min-max over seeds)", "epoch", "validation accuracy",
            Bands(result.Epochs, variants, r => r.ValAccuracy));
        Charts.Lines(folder.File("train_loss"), "Training loss (mean, band = min-max over seeds)", "epoch", "training loss",
            Bands(result.Epochs, variants, r => r.Loss));
        var trainVsVal = Bands(result.Epochs, variants, r => r.Accuracy).Select(s => s with { Name = s.Name + " train", Lower = null, Upper = null })
            .Concat(Bands(result.Epochs, variants, r => r.ValAccuracy).Select(s => s with { Name = s.Name + " validation", Secondary = true, Lower = null, Upper = null }))
            .ToList();
        Charts.Lines(folder.File("train_vs_val"), "Training (thick) vs validation (thin, open markers) accuracy", "epoch", "accuracy", trainVsVal);
        Charts.Bars(folder.File("final_accuracy"), "Final test accuracy (error bar = std over seeds)", "test accuracy",
            variants, result.Summaries.Select(s => s.FinalAccuracyMean).ToArray(), result.Summaries.Select(s => s.FinalAccuracyStd).ToArray());
        folder.WriteText("report.md", Markdown(result));
    }

    /// <summary>Mean and min-max band per variant of one quantity, over seeds, per epoch.</summary>
    public static List<ChartSeries> Bands(IReadOnlyList<EpochResult> rows, IReadOnlyList<string> variants, Func<EpochResult, double> value)
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

    /// <summary>results.csv: one row per variant, seed and epoch.</summary>
    public static string Csv(IReadOnlyList<EpochResult> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder("variant,seed,epoch,loss,accuracy,val_loss,val_accuracy,seconds\n");
        foreach (var r in rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Variant},{r.Seed},{r.Epoch},{r.Loss:R},{r.Accuracy:R},{r.ValLoss:R},{r.ValAccuracy:R},{r.Seconds:R}\n");
        }

        return sb.ToString();
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
