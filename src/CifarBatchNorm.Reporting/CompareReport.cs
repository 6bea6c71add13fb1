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
        bool grid = IsGrid(result);
        string Label(string variant, double learningRate, int batchSize) =>
            grid ? F($"{variant} lr {learningRate:G3} b{batchSize}") : variant;
        var labelled = result.Epochs.Select(r => r with { Variant = Label(r.Variant, r.LearningRate, r.BatchSize) }).ToList();
        string[] variants = result.Summaries.Select(s => Label(s.Variant, s.LearningRate, s.BatchSize)).ToArray();
        string dataset = DatasetOf(result);
        int seeds = result.Config.Seeds;

        Charts.Lines(File("val_accuracy"), $"Validation accuracy, {dataset} (mean; band = min-max over {seeds} seed(s))", "epoch", "validation accuracy",
            Bands(labelled, variants, r => r.ValAccuracy));
        Charts.Lines(File("train_loss"), $"Training loss, {dataset} (mean; band = min-max over {seeds} seed(s))", "epoch", "training loss",
            Bands(labelled, variants, r => r.Loss));
        var trainVsVal = Bands(labelled, variants, r => r.Accuracy).Select(s => s with { Name = s.Name + " train", Lower = null, Upper = null })
            .Concat(Bands(labelled, variants, r => r.ValAccuracy).Select(s => s with { Name = s.Name + " validation", Secondary = true, Lower = null, Upper = null }))
            .ToList();
        Charts.Lines(File("train_vs_val"), $"Training (thick, filled) vs validation (thin, open) accuracy, {dataset}", "epoch", "accuracy", trainVsVal);
        var finals = variants.Select(v => (IReadOnlyList<double>)labelled.Where(r => r.Variant == v).GroupBy(r => r.Seed)
            .Select(g => g.MaxBy(r => r.Epoch)!.ValAccuracy).Where(double.IsFinite).ToList()).ToList();
        Charts.Intervals(File("final_accuracy"), $"Final test accuracy, {dataset} ({seeds} seed(s) as dots)",
            grid ? "variant, learning rate, batch size" : "normalization variant", "test accuracy (mean, 95% CI)", variants,
            result.Summaries.Select(s => s.FinalAccuracyMean).ToList(),
            result.Summaries.Select(s => double.IsFinite(s.FinalAccuracyCi95) ? s.FinalAccuracyCi95 : 0).ToList(), finals);
        var best = BestRun(result);
        if (best is not null)
        {
            Charts.Confusion(File("confusion_matrix"), F($"Confusion matrix of the best run ({best.Variant}, seed {best.Seed}), test set, {dataset}"),
                result.ClassNames, best.Confusion!);
        }

        IO.AtomicFile.WriteAllText(File("report.md"), Markdown(result, dataset, best));
        Html(result, dataset, best, folderPath).Save(File("report.html"));
    }

    /// <summary>The run with the highest final test accuracy that recorded its confusion matrix, or <c>null</c>.</summary>
    internal static RunOutcome? BestRun(CompareResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        double Final(RunOutcome run) => result.Epochs
            .Where(e => e.Variant == run.Variant && e.Seed == run.Seed && e.LearningRate == run.LearningRate && e.BatchSize == run.BatchSize)
            .OrderBy(e => e.Epoch).Select(e => e.ValAccuracy).LastOrDefault(double.NaN);
        return result.Runs.Where(r => r.Confusion is { Count: > 0 } && double.IsFinite(Final(r))).MaxBy(Final);
    }

    private static string BestNote(RunOutcome best) =>
        F($"Confusion matrix of the run with the best final test accuracy ({best.Variant}, seed {best.Seed}, lr {best.LearningRate:G3}, batch {best.BatchSize}): rows are the true class, columns the predicted class; the shade is the row's fraction, the number the count.");

    private static bool IsGrid(CompareResult result) => result.Config.GridLearningRates.Count > 1 || result.Config.GridBatchSizes.Count > 1;

    /// <summary>The dataset's name for titles: the recorded one, else the configured one.</summary>
    internal static string DatasetOf(CompareResult result) =>
        result.DatasetName.Length > 0 ? result.DatasetName : DatasetSelector.DisplayName(result.Config.Training.Dataset);

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

    private static string Setup(CompareResult result)
    {
        var c = result.Config;
        return F($"{result.Dataset} {c.Seeds} seed(s) per cell, {c.Training.Epochs} epochs, ")
            + F($"learning rate(s) {string.Join(", ", c.GridLearningRates.Select(r => r.ToString("G3", CultureInfo.InvariantCulture)))}, ")
            + F($"batch size(s) {string.Join(", ", c.GridBatchSizes)}, {Optimizer(c.Training)}, BN momentum {c.Training.BnMomentum}, ")
            + F($"training images {(c.Training.TrainLimit is int limit ? $"the first {limit:N0}" : "all")}. Machine: {result.Machine}.");
    }

    /// <summary>
    /// The optimizer the runs used, in words: its name, the learning-rate schedule, SGD's momentum and the weight decay
    /// (<c>SGD with Nesterov momentum 0.9, cosine decay to 0, weight decay 0.0001</c>).
    /// </summary>
    internal static string Optimizer(TrainConfig config)
    {
        string name = config.Optimizer switch
        {
            OptimizerKind.AdamW => "AdamW",
            OptimizerKind.Sgd => "SGD",
            _ => "Adam",
        };
        if (config.Optimizer == OptimizerKind.Sgd)
        {
            name += config.Momentum > 0 ? F($" with {(config.Nesterov ? "Nesterov " : "")}momentum {config.Momentum}") : " without momentum";
        }

        string schedule = config.LearningRateSchedule switch
        {
            LearningRateScheduleKind.Cosine => "cosine decay to 0",
            LearningRateScheduleKind.Exponential => F($"exponential decay x{OptimizerFactory.ExponentialDecayPerEpoch} per epoch"),
            _ => "constant learning rate",
        };
        double? decay = config.Optimizer == OptimizerKind.AdamW ? config.WeightDecay ?? OptimizerFactory.AdamWDefaultWeightDecay : config.WeightDecay;
        return F($"{name}, {schedule}, {(decay is double d ? F($"weight decay {d}") : "no weight decay")}");
    }

    private static string Legend(CompareResult result) =>
        "Accuracies are on the test split, which is also the validation data (as in the notebook). ± is the half-width of the "
        + "95% confidence interval of the mean over seeds (Student t). \"Steps to loss\" counts optimizer steps until the training loss "
        + F($"Keras reports (the running mean over the epoch so far) reaches {result.Config.LossTarget:0.###}: optimization speed, untouched by the lag ")
        + "of BN's moving statistics that only the validation numbers see. p: Welch's t-test against `none` in the same cell "
        + "(for steps, a seed that never reached the target counts as its total steps).";

    private static string[] Headers(CompareResult result) =>
    [
        "variant", "lr", "batch", "final accuracy", "best accuracy", F($"epochs to {result.Config.TargetAccuracy:0.###} val acc"),
        F($"steps to loss {result.Config.LossTarget:0.###}"), "s/epoch", "diverged", "p final vs none", "p steps vs none",
    ];

    private static List<IReadOnlyList<string>> Rows(CompareResult result) => result.Summaries.Select(s =>
    {
        string epochs = s.EpochsToTargetMean is double e ? F($"{e:0.0} ({s.SeedsReachingTarget}/{s.Seeds})") : F($"not reached (0/{s.Seeds})");
        string steps = s.StepsToLossTargetMean is double t ? F($"{t:0} ± {Ci(s.StepsToLossTargetCi95, "0")} ({s.SeedsReachingLossTarget}/{s.Seeds})") : F($"not reached (0/{s.Seeds})");
        return (IReadOnlyList<string>)
        [
            s.Variant, F($"{s.LearningRate:G3}"), F($"{s.BatchSize}"),
            F($"{s.FinalAccuracyMean:0.0000} ± {Ci(s.FinalAccuracyCi95, "0.0000")}"), F($"{s.BestAccuracyMean:0.0000} ± {Ci(s.BestAccuracyCi95, "0.0000")}"),
            epochs, steps, F($"{s.SecondsPerEpoch:0.0}"), F($"{s.DivergedRuns}/{s.Seeds}"), P(s.FinalAccuracyPValueVsNone), P(s.StepsPValueVsNone),
        ];
    }).ToList();

    private const string LagNote = "With BN momentum 0.99 (Keras's default) the moving statistics lag the weights in the first epochs, so validation "
        + "accuracy of the BN variants starts far below training accuracy; with a BN momentum of 0.9 (TrainConfig.BnMomentum) the gap closes sooner.";

    private const string IntervalNote = "Points with 95% confidence intervals of the mean over seeds (Student's t); the dots are the seeds. "
        + "The axis fits the data and does not start at 0: compare the intervals, not heights.";

    private static string Markdown(CompareResult result, string dataset, RunOutcome? best)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# Batch Normalization variants compared on {dataset}\n\n");
        sb.Append(Setup(result)).Append("\n\n").Append(Legend(result)).Append("\n\n");
        var headers = Headers(result);
        sb.Append("| ").Append(string.Join(" | ", headers)).Append(" |\n");
        sb.Append(string.Concat(Enumerable.Repeat("|---", headers.Length))).Append("|\n");
        foreach (var row in Rows(result))
        {
            sb.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        }

        sb.Append("\n## What the data says about the notebook's claims\n\n");
        foreach (string claim in Claims(result))
        {
            sb.Append("- ").Append(claim).Append('\n');
        }

        sb.Append("\nValidation accuracy per epoch:\n\n![validation accuracy](val_accuracy.png)\n\n");
        sb.Append("Training loss per epoch:\n\n![training loss](train_loss.png)\n\n");
        sb.Append("Training (thick lines, filled markers) vs validation (thin lines, open markers) accuracy. ").Append(LagNote);
        sb.Append("\n\n![train vs validation](train_vs_val.png)\n\n");
        sb.Append("Final test accuracy. ").Append(IntervalNote).Append("\n\n![final accuracy](final_accuracy.png)\n\n");
        if (best is not null)
        {
            sb.Append(BestNote(best)).Append("\n\n![confusion matrix](confusion_matrix.png)\n\n");
        }

        sb.Append("The same report as one file with the plots inside: [report.html](report.html).\n\n");
        sb.Append("Exact configuration:\n\n```json\n").Append(JsonSerializer.Serialize(result.Config, RunFolder.Json)).Append("\n```\n");
        return sb.ToString();
    }

    private static HtmlReport Html(CompareResult result, string dataset, RunOutcome? best, string folder)
    {
        string Svg(string name) => Path.Combine(folder, name + ".svg");
        var html = new HtmlReport($"Batch Normalization variants compared on {dataset}")
            .Paragraph(Setup(result))
            .Paragraph(Legend(result))
            .Table(Headers(result), Rows(result))
            .Heading("What the data says about the notebook's claims");
        foreach (string claim in Claims(result))
        {
            html.Paragraph(claim);
        }

        html
            .Figure(Svg("val_accuracy"), "Validation accuracy per epoch: mean over seeds, band = min-max.")
            .Figure(Svg("train_loss"), "Training loss per epoch: mean over seeds, band = min-max.")
            .Figure(Svg("train_vs_val"), "Training (thick lines, filled markers) vs validation (thin lines, open markers) accuracy. " + LagNote)
            .Figure(Svg("final_accuracy"), "Final test accuracy. " + IntervalNote);
        if (best is not null)
        {
            html.Figure(Svg("confusion_matrix"), BestNote(best));
        }

        return html
            .Heading("Exact configuration")
            .Code(JsonSerializer.Serialize(result.Config, RunFolder.Json));
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
