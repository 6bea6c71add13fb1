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
        bool grid = result.Config.GridLearningRates.Count > 1 || result.Config.GridBatchSizes.Count > 1;
        string Label(string variant, double learningRate, int batchSize) =>
            grid ? F($"{variant} lr {learningRate:G3} b{batchSize}") : variant;
        var labelled = result.Epochs.Select(r => r with { Variant = Label(r.Variant, r.LearningRate, r.BatchSize) }).ToList();
        string[] variants = result.Summaries.Select(s => Label(s.Variant, s.LearningRate, s.BatchSize)).ToArray();

        Charts.Lines(File("val_accuracy"), "Validation accuracy (mean, band = min-max over seeds)", "epoch", "validation accuracy",
            Bands(labelled, variants, r => r.ValAccuracy));
        Charts.Lines(File("train_loss"), "Training loss (mean, band = min-max over seeds)", "epoch", "training loss",
            Bands(labelled, variants, r => r.Loss));
        var trainVsVal = Bands(labelled, variants, r => r.Accuracy).Select(s => s with { Name = s.Name + " train", Lower = null, Upper = null })
            .Concat(Bands(labelled, variants, r => r.ValAccuracy).Select(s => s with { Name = s.Name + " validation", Secondary = true, Lower = null, Upper = null }))
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
        sb.Append(CultureInfo.InvariantCulture, $"{result.Dataset} {c.Seeds} seed(s) per cell, {c.Training.Epochs} epochs, ");
        sb.Append(CultureInfo.InvariantCulture, $"learning rate(s) {string.Join(", ", c.GridLearningRates.Select(r => r.ToString("G3", CultureInfo.InvariantCulture)))}, ");
        sb.Append(CultureInfo.InvariantCulture, $"batch size(s) {string.Join(", ", c.GridBatchSizes)}, Adam, BN momentum {c.Training.BnMomentum}, ");
        sb.Append(CultureInfo.InvariantCulture, $"training images {(c.Training.TrainLimit is int limit ? $"the first {limit:N0}" : "all")}. Machine: {result.Machine}.\n\n");
        sb.Append("Accuracies are on the test split, which is also the validation data (as in the notebook). ± is the half-width of the ");
        sb.Append("95% confidence interval of the mean over seeds (Student t). \"Steps to loss\" counts optimizer steps until the training loss ");
        sb.Append(CultureInfo.InvariantCulture, $"Keras reports (the running mean over the epoch so far) reaches {c.LossTarget:0.###}: optimization speed, untouched by the lag ");
        sb.Append("of BN's moving statistics that only the validation numbers see. p: Welch's t-test against `none` in the same cell ");
        sb.Append("(for steps, a seed that never reached the target counts as its total steps).\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"| variant | lr | batch | final accuracy | best accuracy | epochs to {c.TargetAccuracy:0.###} val acc | steps to loss {c.LossTarget:0.###} | s/epoch | diverged | p final vs none | p steps vs none |\n");
        sb.Append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var s in result.Summaries)
        {
            string epochs = s.EpochsToTargetMean is double e ? F($"{e:0.0} ({s.SeedsReachingTarget}/{s.Seeds})") : F($"not reached (0/{s.Seeds})");
            string steps = s.StepsToLossTargetMean is double t ? F($"{t:0} ± {Ci(s.StepsToLossTargetCi95, "0")} ({s.SeedsReachingLossTarget}/{s.Seeds})") : F($"not reached (0/{s.Seeds})");
            sb.Append(CultureInfo.InvariantCulture,
                $"| {s.Variant} | {s.LearningRate:G3} | {s.BatchSize} | {s.FinalAccuracyMean:0.0000} ± {Ci(s.FinalAccuracyCi95, "0.0000")} | {s.BestAccuracyMean:0.0000} ± {Ci(s.BestAccuracyCi95, "0.0000")} | {epochs} | {steps} | {s.SecondsPerEpoch:0.0} | {s.DivergedRuns}/{s.Seeds} | {P(s.FinalAccuracyPValueVsNone)} | {P(s.StepsPValueVsNone)} |\n");
        }

        sb.Append("\n## What the data says about the notebook's claims\n\n");
        foreach (string claim in Claims(result))
        {
            sb.Append("- ").Append(claim).Append('\n');
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

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Ci(double halfWidth, string format) => double.IsNaN(halfWidth) ? "n/a" : halfWidth.ToString(format, CultureInfo.InvariantCulture);

    private static string P(double p) => double.IsNaN(p) ? "-" : p < 0.001 ? "<0.001" : p.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>
    /// One sentence per claim of the notebook, decided by fixed rules: "supported" when the difference is in the
    /// claimed direction with p &lt; 0.05 (Welch), "not supported" when it is in the other direction with p &lt; 0.05,
    /// "not shown" otherwise (no significant difference at this many seeds); a claim the grid cannot test says so.
    /// </summary>
    internal static IReadOnlyList<string> Claims(CompareResult result)
    {
        var claims = new List<string>();
        double lr = result.Config.GridLearningRates[0];
        int batch = result.Config.GridBatchSizes[0];
        VariantSummary? Cell(string variant, double rate, int size) =>
            result.Summaries.FirstOrDefault(s => s.Variant == variant && s.LearningRate == rate && s.BatchSize == size);
        double[] Finals(string variant, double rate, int size) => result.Epochs
            .Where(e => e.Variant == variant && e.LearningRate == rate && e.BatchSize == size)
            .GroupBy(e => e.Seed).Select(g => g.OrderBy(e => e.Epoch).Last().ValAccuracy).ToArray();
        static string Verdict(double difference, double p, bool higherIsBetter) =>
            double.IsNaN(p) ? "not testable (fewer than two seeds)"
            : p < 0.05 && (difference > 0) == higherIsBetter ? "supported"
            : p < 0.05 ? "not supported (the opposite holds)"
            : "not shown (no significant difference)";

        if (Cell("bn", lr, batch) is { } bn && Cell("none", lr, batch) is { } none)
        {
            claims.Add(F($"BN makes training faster: {Verdict((none.StepsToLossTargetMean ?? double.PositiveInfinity) - (bn.StepsToLossTargetMean ?? double.PositiveInfinity), bn.StepsPValueVsNone, true)}. Steps to training loss {result.Config.LossTarget:0.###}: bn {Steps(bn)}, none {Steps(none)} (p = {P(bn.StepsPValueVsNone)}); final test accuracy bn {bn.FinalAccuracyMean:0.0000} vs none {none.FinalAccuracyMean:0.0000} (p = {P(bn.FinalAccuracyPValueVsNone)})."));
        }
        else
        {
            claims.Add("BN makes training faster: not testable here (the comparison needs both `bn` and `none`).");
        }

        var rates = result.Config.GridLearningRates;
        if (rates.Count > 1 && rates.All(r => Cell("bn", r, batch) is not null && Cell("none", r, batch) is not null))
        {
            string perRate = string.Join("; ", rates.Select(r => F($"lr {r:G3}: bn {Cell("bn", r, batch)!.FinalAccuracyMean:0.0000} ({Cell("bn", r, batch)!.DivergedRuns} diverged) vs none {Cell("none", r, batch)!.FinalAccuracyMean:0.0000} ({Cell("none", r, batch)!.DivergedRuns} diverged)")));
            double top = rates.Max();
            var bnTop = Cell("bn", top, batch)!;
            var noneTop = Cell("none", top, batch)!;
            claims.Add(F($"BN trains where no-BN stalls or diverges at high learning rates: {Verdict(bnTop.FinalAccuracyMean - noneTop.FinalAccuracyMean, bnTop.FinalAccuracyPValueVsNone, true)} at lr {top:G3} (p = {P(bnTop.FinalAccuracyPValueVsNone)}). Final test accuracy per learning rate: {perRate}."));
        }
        else
        {
            claims.Add("BN allows higher learning rates: not testable in this run (it needs a grid of learning rates, CompareConfig.LearningRates).");
        }

        if (Cell("renorm", lr, batch) is not null && Cell("bn", lr, batch) is not null)
        {
            foreach (int size in result.Config.GridBatchSizes)
            {
                double[] renorm = Finals("renorm", lr, size), plain = Finals("bn", lr, size);
                double p = Statistics.WelchPValue(renorm, plain);
                double difference = Statistics.Mean(renorm) - Statistics.Mean(plain);
                claims.Add(F($"Batch Renormalization does better than BN (batch {size}): {Verdict(difference, p, true)}. Final test accuracy renorm {Statistics.Mean(renorm):0.0000} vs bn {Statistics.Mean(plain):0.0000} (difference {difference:+0.0000;-0.0000}, p = {P(p)})."));
            }
        }
        else
        {
            claims.Add("Batch Renormalization does better than BN: not testable here (the comparison needs both `renorm` and `bn`).");
        }

        return claims;
    }

    private static string Steps(VariantSummary s) =>
        s.StepsToLossTargetMean is double t ? F($"{t:0} ± {Ci(s.StepsToLossTargetCi95, "0")} ({s.SeedsReachingLossTarget}/{s.Seeds} seeds)") : "never";
}
