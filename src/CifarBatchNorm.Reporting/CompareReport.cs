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
    internal static readonly string[] Plots = ["val_accuracy", "test_accuracy", "train_loss", "train_vs_val", "final_accuracy"];

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
        string setting = Setting(result);
        int seeds = result.Config.Seeds;
        string validation = ValidationName(result);

        Charts.Lines(File("val_accuracy"), $"Accuracy on {validation} per epoch, {setting} (mean; band = min-max over {seeds} seed(s))", "epoch", $"accuracy on {validation}",
            Bands(labelled, variants, r => r.ValAccuracy));
        Charts.Lines(File("test_accuracy"), $"Test accuracy per epoch (a curve, never used to choose an epoch), {setting}", "epoch", "test accuracy",
            Bands(labelled, variants, r => r.TestAccuracyOrValidation));
        var lossBands = LossBands(result, variants, Label);
        if (lossBands.Count > 0)
        {
            Charts.Lines(File("train_loss"), $"Training loss per step (EMA, half-life {result.Config.LossHalfLifeSteps:0.#}), {setting}", "optimizer step", "training loss",
                lossBands, integerX: false);
        }
        else
        {
            Charts.Lines(File("train_loss"), $"Training loss per epoch (Keras's epoch mean; no per-step curve recorded), {setting}", "epoch", "training loss",
                Bands(labelled, variants, r => r.Loss));
        }

        var trainVsVal = Bands(labelled, variants, r => r.Accuracy).Select(s => s with { Name = s.Name + " training", Lower = null, Upper = null })
            .Concat(Bands(labelled, variants, r => r.ValAccuracy).Select(s => s with { Name = s.Name + " " + ShortValidation(result), Secondary = true, Lower = null, Upper = null }))
            .ToList();
        Charts.Lines(File("train_vs_val"), $"Training (thick, filled) vs {validation} (thin, open) accuracy, {setting}", "epoch", "accuracy", trainVsVal);
        var finals = variants.Select((v, i) => (IReadOnlyList<double>)labelled.Where(r => r.Variant == v).GroupBy(r => r.Seed)
            .Where(g => !Diverged(result, result.Summaries[i], g.Key))
            .Select(g => g.MaxBy(r => r.Epoch)!.TestAccuracyOrValidation).Where(double.IsFinite).ToList()).ToList();
        int fewest = finals.Count == 0 ? 0 : finals.Min(f => f.Count);
        Charts.Intervals(File("final_accuracy"),
            $"Final test accuracy, {setting}{(fewest < 3 ? F($" (WARNING: n = {fewest} < 3, intervals unreliable)") : "")}",
            grid ? "variant, learning rate, batch size (n = seeds)" : "normalization variant (n = seeds)", "test accuracy (mean, 95% CI, clipped to [0, 1])",
            variants.Select((v, i) => F($"{v} (n={finals[i].Count})")).ToList(),
            result.Summaries.Select(s => s.FinalAccuracyMean).ToList(),
            result.Summaries.Select(s => double.IsFinite(s.FinalAccuracyCi95) ? s.FinalAccuracyCi95 : 0).ToList(), finals, bounds: (0, 1));
        var best = BestRun(result);
        if (best is not null)
        {
            Charts.Confusion(File("confusion_matrix"), F($"Confusion matrix of the best run ({best.Variant}, seed {best.Seed}), test set, {setting}"),
                result.ClassNames, best.Confusion!);
        }

        var claims = CompareClaims.Evaluate(result);
        var stepTimes = StepTimes(result, File(BenchFile));
        IO.AtomicFile.WriteAllText(File("report.md"), Markdown(result, dataset, best, claims, stepTimes));
        Html(result, dataset, best, claims, stepTimes, folderPath).Save(File("report.html"));
    }

    /// <summary>
    /// The benchmark file a comparison's folder may hold (<c>cifar-bn bench --cases variant-step -o DIR/bench.json</c>):
    /// its per-variant step times turn the steps to the loss target into seconds.
    /// </summary>
    internal const string BenchFile = "bench.json";

    /// <summary>The "time per step" table: per variant the benchmark's step time and the steps and seconds to the loss target; empty without a benchmark file.</summary>
    private static (string Note, string[] Headers, List<IReadOnlyList<string>> Rows) StepTimes(CompareResult result, string benchPath)
    {
        if (!System.IO.File.Exists(benchPath) || IsGrid(result))
        {
            return ("", [], []);
        }

        BenchmarkResult? bench;
        string allocator;
        try
        {
            using var document = JsonDocument.Parse(System.IO.File.ReadAllText(benchPath));
            bench = document.Deserialize<BenchmarkResult>();
            allocator = document.RootElement.TryGetProperty("allocator", out var named) ? named.ToString() : "allocator not recorded";
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(F($"{benchPath} is not a benchmark's JSON ({e.Message}); measure the variants' step times again (the benchmark's variant-step case), or delete it."), e);
        }

        if (bench?.VariantStep28x28x1Ms is not { Count: > 0 } times)
        {
            return ("", [], []);
        }

        var rows = new List<IReadOnlyList<string>>();
        foreach (var s in result.Summaries)
        {
            // bn-m09 runs bn's operations (only the momentum of the moving statistics differs).
            string timedAs = s.Variant == "bn-m09" ? "bn" : s.Variant;
            if (!times.TryGetValue(timedAs, out var t))
            {
                continue;
            }

            string steps = s.StepsToLossTargetMean is double n ? F($"{n:0} ({s.SeedsReachingLossTarget}/{s.Seeds})") : F($"not reached (0/{s.Seeds})");
            string seconds = s.StepsToLossTargetMean is double m ? F($"{m * t.Median / 1000:0.0}") : "-";
            rows.Add([s.Variant, F($"{t.Median:0.00} ({t.Min:0.00}-{t.Max:0.00}){(timedAs != s.Variant ? " (bn's)" : "")}"), steps, seconds]);
        }

        string note = F($"Time per training step from the benchmark's variant-step case (the variants' bare steps on 28x28x1 images at batch {bench.BatchSize}, ")
            + F($"taking turns in one process, {bench.Repeats} repeats; median (min-max) ms) on {bench.Machine}, {bench.Threads} thread(s), {allocator}. ")
            + "Seconds to the loss target = mean steps to the target x median step time: the optimization's speed in wall time on that machine, "
            + "without data loading and evaluation (the comparison's own s/epoch column shares the machine with whatever else ran).";
        return (note, ["variant", "ms per step", F($"steps to loss {result.Config.LossTarget:0.###}"), "seconds to it"], rows);
    }

    private static bool Diverged(CompareResult result, VariantSummary cell, int seed) =>
        result.Runs.Any(o => o.Variant == cell.Variant && o.Seed == seed && o.LearningRate == cell.LearningRate && o.BatchSize == cell.BatchSize && o.Diverged);

    /// <summary>Dataset, sampling and batch size(s), for titles: <c>Fashion-MNIST, i.i.d. batches of 64</c>.</summary>
    internal static string Setting(CompareResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string sampling = result.Config.Training.BatchSampling == CifarBatchNorm.Training.BatchSampling.Iid ? "i.i.d." : "non-i.i.d.";
        return F($"{DatasetOf(result)}, {sampling} batches of {string.Join(" and ", result.Config.GridBatchSizes)}");
    }

    /// <summary>What the per-epoch validation numbers are measured on: <c>the validation split</c> or <c>the test set</c>.</summary>
    private static string ValidationName(CompareResult result) =>
        result.Config.Training.ValidationSplit > 0 ? "the validation split" : "the test set (used as validation, as in the notebook)";

    private static string ShortValidation(CompareResult result) => result.Config.Training.ValidationSplit > 0 ? "validation" : "test";

    /// <summary>Mean and min-max band per variant of the moving-average training loss per step, over seeds (runs with a recorded curve).</summary>
    private static List<ChartSeries> LossBands(CompareResult result, IReadOnlyList<string> labels, Func<string, double, int, string> label)
    {
        var series = new List<ChartSeries>();
        for (int v = 0; v < labels.Count; v++)
        {
            var curves = result.Runs.Where(o => o.LossCurve is { Steps.Count: > 0 } && label(o.Variant, o.LearningRate, o.BatchSize) == labels[v])
                .Select(o => o.LossCurve!).ToList();
            if (curves.Count == 0)
            {
                continue;
            }

            int points = curves.Min(c => c.Steps.Count);
            double[] Column(Func<IEnumerable<double>, double> f) =>
                Enumerable.Range(0, points).Select(i => f(curves.Select(c => c.Smoothed[i]))).ToArray();
            series.Add(new ChartSeries(labels[v], curves[0].Steps.Take(points).Select(s => (double)s).ToArray(),
                Column(Enumerable.Average), Column(Enumerable.Min), Column(Enumerable.Max), ColorIndex: v));
        }

        return series;
    }

    /// <summary>The run with the highest final test accuracy that recorded its confusion matrix, or <c>null</c>.</summary>
    internal static RunOutcome? BestRun(CompareResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        double Final(RunOutcome run) => result.Epochs
            .Where(e => e.Variant == run.Variant && e.Seed == run.Seed && e.LearningRate == run.LearningRate && e.BatchSize == run.BatchSize)
            .OrderBy(e => e.Epoch).Select(e => e.TestAccuracyOrValidation).LastOrDefault(double.NaN);
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
        F($"Per-epoch validation numbers are on {ValidationName(result)}{(result.Validation.Length > 0 ? $" ({result.Validation})" : "")}; ")
        + "accuracies in the table are on the test set. ± is the half-width of the 95% confidence interval of the mean over seeds "
        + "(Student t); runs that diverged are left out of accuracies and counted. \"Test acc. at best val. epoch\" picks each run's epoch "
        + "on the validation split (never on the test set; shown only when the runs had a validation split). \"Steps to loss\" is the step "
        + F($"(interpolated) at which the moving average of the per-step training loss, half-life {result.Config.LossHalfLifeSteps:0.#} steps, first reaches ")
        + F($"{result.Config.LossTarget:0.###}: the average runs across epoch boundaries, unlike Keras's running mean of the epoch so far (one batch's ")
        + "loss at an epoch's first step), and smooths the noise of single batches (about that of a mean over 58 steps) at the cost of a lag of "
        + "about 28 steps that is the same for every variant; it is optimization speed, untouched by the lag of BN's moving statistics that only "
        + "the evaluation numbers see. It is the mean over the k of n seeds that reached the target; runs that never did (or diverged first) "
        + "are censored, not counted as a number of steps.";

    private static string[] Headers(CompareResult result) =>
    [
        "variant", "lr", "batch", "n", "final test accuracy", "test acc. at best val. epoch", F($"epochs to {result.Config.TargetAccuracy:0.###} val. acc. (k/n)"),
        F($"steps to loss {result.Config.LossTarget:0.###} (k/n reached)"), "s/epoch", "diverged",
    ];

    private static List<IReadOnlyList<string>> Rows(CompareResult result) => result.Summaries.Select(s =>
    {
        string epochs = s.EpochsToTargetMean is double e ? F($"{e:0.0} ({s.SeedsReachingTarget}/{s.Seeds})") : F($"not reached (0/{s.Seeds})");
        bool recorded = result.Runs.Any(o => o.Variant == s.Variant && o.LearningRate == s.LearningRate && o.BatchSize == s.BatchSize && o.LossCurve is not null);
        string steps = !recorded ? "not recorded (results from before the per-step loss)"
            : s.StepsToLossTargetMean is double t ? F($"{t:0} ± {Ci(s.StepsToLossTargetCi95, "0")} ({s.SeedsReachingLossTarget}/{s.Seeds})") : F($"not reached (0/{s.Seeds})");
        int finished = s.Seeds - s.DivergedRuns;
        return (IReadOnlyList<string>)
        [
            s.Variant, F($"{s.LearningRate:G3}"), F($"{s.BatchSize}"), F($"{finished}{(finished < 3 ? " (n < 3!)" : "")}"),
            F($"{s.FinalAccuracyMean:0.0000} ± {Ci(s.FinalAccuracyCi95, "0.0000")}"),
            double.IsNaN(s.BestAccuracyMean) ? "- (no validation split)" : F($"{s.BestAccuracyMean:0.0000} ± {Ci(s.BestAccuracyCi95, "0.0000")}"),
            epochs, steps, F($"{s.SecondsPerEpoch:0.0}"), F($"{s.DivergedRuns}/{s.Seeds}"),
        ];
    }).ToList();

    private static string Provenance(CompareResult result) => result.Provenance is { } p
        ? F($"Produced by commit {p.Commit} (cifar-bn {p.Version}) on {p.Machine}, started {p.StartedUtc:yyyy-MM-dd HH:mm} UTC with `{p.Command}`")
            + (p.ResumedBy.Count > 0 ? F($", continued with {string.Join(", ", p.ResumedBy.Select(c => $"`{c}`"))}") : "") + "."
        : "Produced before results recorded their commit and command (results.json has no provenance).";

    private static string Methods(CompareResult result) =>
        "Design: for one seed every variant starts from the same weights and sees the same shuffles, so variants are compared "
        + "paired by seed. Each claim below is tested on the one primary endpoint named with it, decided before the numbers were "
        + "seen; the p-values are Holm-Bonferroni adjusted over the claims of this report. Accuracy endpoints: paired t-test on "
        + "the per-seed differences (95% CI of the mean difference), with the exact sign-flip permutation test beside it (its "
        + "smallest possible p is 2 / 2^n). Steps endpoints: paired t when every run reached the target, else the exact Wilcoxon "
        + "signed-rank test with never-reached and diverged runs censored and ranked slowest; the direction is read from the same "
        + "test. Verdicts at Holm-adjusted p < 0.05: supported / opposite holds; otherwise not shown when the design had 80% power "
        + "for a meaningful difference (1 accuracy point, 10% of the steps), else inconclusive (underpowered); fewer than 3 seeds "
        + "or differences without spread: not testable. The smallest difference detectable at 80% power is "
        + "(t(0.975, n-1) + t(0.8, n-1)) * SD(differences) / sqrt(n).";

    private static string RenormNote(CompareResult result) => result.RenormSchedules.Count == 0 ? "" :
        "Batch Renormalization clipping (Ioffe 2017: r_max 1 and d_max 0 for 5,000 steps, then r_max relaxed to 3 by step 40,000 "
        + "and d_max to 5 by step 25,000; used as is where a run reaches 40,000 steps, else with the breakpoints scaled by "
        + "steps / 80,000 so that the second half of the run trains fully relaxed): " + string.Join("; ", result.RenormSchedules) + ".";

    private static string ClaimLine(ClaimResult c) =>
        F($"**{c.Claim}**: **{c.Verdict}**. Endpoint: {c.Endpoint}. Effect: {c.Effect}; n = {c.Pairs}; {c.Test}: p = {CompareClaims.P(c.PValue)}, Holm-adjusted p = {CompareClaims.P(c.HolmPValue)}. {c.Detail}.")
        + (c.StoppingEpochNote.Length > 0 ? " " + c.StoppingEpochNote : "");

    private static string PerEpochLine(ClaimResult c) =>
        string.Join("; ", c.PerEpoch.Select(e => F($"epoch {e.Epoch}: {e.Test.MeanDifference:+0.0000;-0.0000;0.0000} ({e.AHigher}/{e.Test.Pairs} higher, p {CompareClaims.P(e.Test.TPValue)})")));

    private const string LagNote = "With BN momentum 0.99 (Keras's default) the moving statistics lag the weights in the first epochs, so validation "
        + "accuracy of the BN variants starts far below training accuracy; with a BN momentum of 0.9 (TrainConfig.BnMomentum) the gap closes sooner.";

    private const string IntervalNote = "Points with 95% confidence intervals of the mean over seeds (Student's t), clipped to [0, 1]; the dots "
        + "are the seeds and n the seeds per variant (runs that diverged are left out). The axis fits the data and does not start at 0: "
        + "compare the intervals, not heights. Unpaired intervals understate what the paired tests above can resolve.";

    private static string Markdown(CompareResult result, string dataset, RunOutcome? best, IReadOnlyList<ClaimResult> claims,
        (string Note, string[] Headers, List<IReadOnlyList<string>> Rows) stepTimes)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# Batch Normalization variants compared on {dataset}\n\n");
        sb.Append(Setup(result)).Append("\n\n").Append(Provenance(result)).Append("\n\n");
        if (RenormNote(result).Length > 0)
        {
            sb.Append(RenormNote(result)).Append("\n\n");
        }

        sb.Append("## Claims, primary endpoints and verdicts\n\n").Append(Methods(result)).Append("\n\n");
        foreach (var claim in claims)
        {
            sb.Append("- ").Append(ClaimLine(claim)).Append('\n');
        }

        var perEpoch = claims.Where(c => c.PerEpoch.Count > 1).ToList();
        if (perEpoch.Count > 0)
        {
            sb.Append("\nThe accuracy endpoints had training stopped earlier (paired difference a - b in test accuracy after each epoch, seeds with a higher, paired t p uncorrected):\n\n");
            foreach (var claim in perEpoch)
            {
                sb.Append("- ").Append(claim.Claim).Append(": ").Append(PerEpochLine(claim)).Append('\n');
            }
        }

        sb.Append("\n## Per variant\n\n").Append(Legend(result)).Append("\n\n");
        var headers = Headers(result);
        sb.Append("| ").Append(string.Join(" | ", headers)).Append(" |\n");
        sb.Append(string.Concat(Enumerable.Repeat("|---", headers.Length))).Append("|\n");
        foreach (var row in Rows(result))
        {
            sb.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        }

        if (stepTimes.Rows.Count > 0)
        {
            sb.Append("\n### Time per step\n\n").Append(stepTimes.Note).Append("\n\n| ").Append(string.Join(" | ", stepTimes.Headers)).Append(" |\n")
                .Append(string.Concat(Enumerable.Repeat("|---", stepTimes.Headers.Length))).Append("|\n");
            foreach (var row in stepTimes.Rows)
            {
                sb.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
            }
        }

        sb.Append(CultureInfo.InvariantCulture, $"\nAccuracy on {ValidationName(result)} per epoch:\n\n![validation accuracy](val_accuracy.png)\n\n");
        sb.Append("Test accuracy per epoch (a curve for reading; no epoch is chosen on it):\n\n![test accuracy](test_accuracy.png)\n\n");
        sb.Append("Training loss per optimizer step (moving average, mean over seeds, band = min-max):\n\n![training loss](train_loss.png)\n\n");
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

    private static HtmlReport Html(CompareResult result, string dataset, RunOutcome? best, IReadOnlyList<ClaimResult> claims,
        (string Note, string[] Headers, List<IReadOnlyList<string>> Rows) stepTimes, string folder)
    {
        string Svg(string name) => Path.Combine(folder, name + ".svg");
        var html = new HtmlReport($"Batch Normalization variants compared on {dataset}")
            .Paragraph(Setup(result))
            .Paragraph(Provenance(result));
        if (RenormNote(result).Length > 0)
        {
            html.Paragraph(RenormNote(result));
        }

        html.Heading("Claims, primary endpoints and verdicts").Paragraph(Methods(result));
        foreach (var claim in claims)
        {
            html.Paragraph(ClaimLine(claim).Replace("**", "", StringComparison.Ordinal));
        }

        foreach (var claim in claims.Where(c => c.PerEpoch.Count > 1))
        {
            html.Paragraph("Had training stopped earlier, " + claim.Claim + ": " + PerEpochLine(claim));
        }

        html.Heading("Per variant")
            .Paragraph(Legend(result))
            .Table(Headers(result), Rows(result));
        if (stepTimes.Rows.Count > 0)
        {
            html.Heading("Time per step").Paragraph(stepTimes.Note).Table(stepTimes.Headers, stepTimes.Rows);
        }

        html.Figure(Svg("val_accuracy"), F($"Accuracy on {ValidationName(result)} per epoch: mean over seeds, band = min-max."))
            .Figure(Svg("test_accuracy"), "Test accuracy per epoch: a curve for reading; no epoch is chosen on it.")
            .Figure(Svg("train_loss"), "Training loss per optimizer step, moving average: mean over seeds, band = min-max.")
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
}
