using System.Text;
using System.Globalization;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Trains every variant with every seed and summarises. Each run starts from <c>torch.manual_seed(seed)</c> just
/// before the model is built; the variants' Conv and Dense layers draw their initial weights in the same order
/// and normalization layers draw nothing, so for one seed every variant starts from the same weights and sees
/// the same shuffles.
/// </summary>
public static class CompareRunner
{
    /// <summary>
    /// Runs the comparison and writes its rows (<c>results.json</c>, <c>results.csv</c>) into <paramref name="outputDir"/>;
    /// <c>Reporting.CompareReport.Write</c> adds the plots and <c>report.md</c>.
    /// </summary>
    public static CompareResult Run(CompareConfig config, string outputDir, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(output);
        config.Validate();
        var (data, folder) = DatasetSelector.Prepare(config.Training, outputDir, output);
        var rows = new List<EpochResult>();
        var runs = new List<RunOutcome>();
        try
        {
            foreach (int batchSize in config.GridBatchSizes)
            {
                foreach (double learningRate in config.GridLearningRates)
                {
                    for (int s = 0; s < config.Seeds; s++)
                    {
                        foreach (var variant in config.Variants)
                        {
                            var (epochs, outcome) = RunOne(config, data, variant, config.Training.Seed + s, learningRate, batchSize, cancellationToken);
                            rows.AddRange(epochs);
                            runs.Add(outcome);
                            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"{outcome.Variant,-15} seed {outcome.Seed} lr {learningRate:G3} batch {batchSize}: val_accuracy {string.Join(" ", epochs.Select(e => e.ValAccuracy.ToString("0.000", CultureInfo.InvariantCulture)))}{(outcome.Diverged ? $" ({outcome.Message})" : "")}"));
                        }
                    }
                }
            }
        }
        catch
        {
            folder.Discard();
            throw;
        }
        finally
        {
            folder.ReleaseLock();
        }

        var result = new CompareResult(config, data.Reason, MachineInfo.Describe(), rows, Summarize(config, rows, runs)) { Runs = runs };
        folder.WriteJson("results.json", result);
        folder.WriteText("results.csv", Csv(result.Epochs));
        output.WriteLine($"Results: {folder.Path}");
        return result;
    }

    /// <summary>
    /// One cell of the grid. A loss that becomes NaN or infinite is a result, not an error: the finished epochs are kept
    /// and the run is marked diverged.
    /// </summary>
    private static (List<EpochResult> Epochs, RunOutcome Outcome) RunOne(CompareConfig config, LoadedData data, NormalizationVariant variant,
        int seed, double learningRate, int batchSize, CancellationToken cancellationToken)
    {
        string name = ModelPresets.VariantName(variant);
        manual_seed(seed);
        using var model = ModelPresets.Notebook(data.Train.Shape, data.Train.NumClasses, variant, config.Training.BnMomentum);
        model.Compile(new Adam(learningRate));
        var recorder = new LossTargetRecorder(config.LossTarget);
        var history = new HistoryRecorder();
        string message = "complete";
        bool diverged = false;
        try
        {
            model.Fit(data.Train, batchSize: batchSize, epochs: config.Training.Epochs, verbose: 0, validationData: data.Test,
                callbacks: [recorder, history], cancellationToken: cancellationToken);
        }
        catch (TrainingDivergedException e)
        {
            diverged = true;
            message = $"diverged at epoch {e.Epoch}, step {e.Step}";
        }

        var epochs = history.Rows.Select(r => new EpochResult(name, seed, r.Epoch, r.Logs["loss"], r.Logs["accuracy"], r.Logs["val_loss"],
            r.Logs["val_accuracy"], r.Logs["train_seconds"], learningRate, batchSize)).ToList();
        int stepsPerEpoch = (data.Train.Count + batchSize - 1) / batchSize;
        return (epochs, new RunOutcome(name, seed, learningRate, batchSize, recorder.ReachedAt, diverged, message, epochs.Count * stepsPerEpoch));
    }

    /// <summary>Collects the epoch logs as they come, so a run that diverges keeps its finished epochs.</summary>
    private sealed class HistoryRecorder : Callbacks.Callback
    {
        public List<(int Epoch, Dictionary<string, double> Logs)> Rows { get; } = [];

        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) =>
            Rows.Add((epoch, new Dictionary<string, double>(logs, StringComparer.Ordinal)));
    }

    /// <summary>Per variant, learning rate and batch size: final and best accuracy with 95% intervals, epochs and steps to target, p-values against <c>none</c>.</summary>
    public static IReadOnlyList<VariantSummary> Summarize(CompareConfig config, IReadOnlyList<EpochResult> rows, IReadOnlyList<RunOutcome>? runs = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(rows);
        runs ??= [];
        var summaries = new List<VariantSummary>();
        foreach (int batchSize in config.GridBatchSizes)
        {
            foreach (double learningRate in config.GridLearningRates)
            {
                bool InCell(EpochResult r) => r.BatchSize == batchSize && r.LearningRate == learningRate;
                List<List<EpochResult>> RunsOf(string variant) =>
                    rows.Where(r => r.Variant == variant && (InCell(r) || r.BatchSize == 0)).GroupBy(r => r.Seed).Select(g => g.OrderBy(r => r.Epoch).ToList()).ToList();
                double[] StepsOf(string variant) => runs
                    .Where(o => o.Variant == variant && o.BatchSize == batchSize && o.LearningRate == learningRate)
                    .Select(o => (double)(o.StepsToLossTarget ?? o.TotalSteps))
                    .ToArray();
                double[] FinalsOf(string variant) => RunsOf(variant).Where(r => r.Count > 0).Select(r => r[^1].ValAccuracy).ToArray();
                var noneFinals = FinalsOf("none");
                var noneSteps = StepsOf("none");
                foreach (string variant in config.Variants.Select(ModelPresets.VariantName))
                {
                    var seeds = RunsOf(variant).Where(r => r.Count > 0).ToList();
                    var outcomes = runs.Where(o => o.Variant == variant && o.BatchSize == batchSize && o.LearningRate == learningRate).ToList();
                    if (seeds.Count == 0 && outcomes.Count == 0)
                    {
                        continue;
                    }

                    double[] finals = FinalsOf(variant);
                    double[] bests = seeds.Select(r => r.Max(e => e.ValAccuracy)).ToArray();
                    int[] reached = seeds.Select(r => r.FirstOrDefault(e => e.ValAccuracy >= config.TargetAccuracy)?.Epoch ?? 0).Where(e => e > 0).ToArray();
                    double[] steps = outcomes.Where(o => o.StepsToLossTarget is not null).Select(o => (double)o.StepsToLossTarget!.Value).ToArray();
                    bool isNone = variant == "none";
                    summaries.Add(new VariantSummary(variant, finals.Length > 0 ? finals.Average() : double.NaN, Math.Sqrt(Statistics.Variance(finals)),
                        reached.Length > 0 ? reached.Average() : null, reached.Length,
                        seeds.Count > 0 ? seeds.SelectMany(r => r).Average(e => e.Seconds) : double.NaN)
                    {
                        LearningRate = learningRate,
                        BatchSize = batchSize,
                        Seeds = Math.Max(seeds.Count, outcomes.Count),
                        FinalAccuracyCi95 = Statistics.ConfidenceHalfWidth95(finals),
                        BestAccuracyMean = bests.Length > 0 ? bests.Average() : double.NaN,
                        BestAccuracyCi95 = Statistics.ConfidenceHalfWidth95(bests),
                        StepsToLossTargetMean = steps.Length > 0 ? steps.Average() : null,
                        StepsToLossTargetCi95 = Statistics.ConfidenceHalfWidth95(steps),
                        SeedsReachingLossTarget = steps.Length,
                        DivergedRuns = outcomes.Count(o => o.Diverged),
                        FinalAccuracyPValueVsNone = isNone ? double.NaN : Statistics.WelchPValue(finals, noneFinals),
                        StepsPValueVsNone = isNone ? double.NaN : Statistics.WelchPValue(StepsOf(variant), noneSteps),
                    });
                }
            }
        }

        return summaries;
    }

    /// <summary>results.csv: one row per variant, seed and epoch.</summary>
    public static string Csv(IReadOnlyList<EpochResult> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder("variant,seed,learning_rate,batch_size,epoch,loss,accuracy,val_loss,val_accuracy,seconds\n");
        foreach (var r in rows)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"{r.Variant},{r.Seed},{r.LearningRate:R},{r.BatchSize},{r.Epoch},{Csv(r.Loss)},{Csv(r.Accuracy)},{Csv(r.ValLoss)},{Csv(r.ValAccuracy)},{r.Seconds:R}\n");
        }

        return sb.ToString();
    }

    /// <summary>Per-variant mean and spread of the final accuracy, epochs to target, and time per epoch.</summary>
    public static IReadOnlyList<VariantSummary> Summarize(CompareConfig config, IReadOnlyList<EpochResult> rows)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(rows);
        var summaries = new List<VariantSummary>();
        foreach (string variant in config.Variants.Select(ModelPresets.VariantName))
        {
            var runs = rows.Where(r => r.Variant == variant).GroupBy(r => r.Seed).Select(g => g.OrderBy(r => r.Epoch).ToList()).ToList();
            if (runs.Count == 0)
            {
                continue;
            }

            double[] finals = runs.Select(r => r[^1].ValAccuracy).ToArray();
            double mean = finals.Average();
            double std = finals.Length > 1 ? Math.Sqrt(finals.Sum(f => (f - mean) * (f - mean)) / (finals.Length - 1)) : 0;
            int[] reached = runs.Select(r => r.FirstOrDefault(e => e.ValAccuracy >= config.TargetAccuracy)?.Epoch ?? 0).Where(e => e > 0).ToArray();
            summaries.Add(new VariantSummary(variant, mean, std, reached.Length > 0 ? reached.Average() : null, reached.Length,
                runs.SelectMany(r => r).Average(e => e.Seconds)));
        }

        return summaries;
    }

    /// <summary>A CSV number; NaN and infinities as Keras's CSVLogger writes them.</summary>
    private static string Csv(double value) => double.IsNaN(value) ? "NaN" : double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf"
        : value.ToString("R", CultureInfo.InvariantCulture);
}
