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
        try
        {
            for (int s = 0; s < config.Seeds; s++)
            {
                int seed = config.Training.Seed + s;
                foreach (var variant in config.Variants)
                {
                    string name = ModelPresets.VariantName(variant);
                    manual_seed(seed);
                    using var model = ModelPresets.Notebook(data.Train.Shape, data.Train.NumClasses, variant, config.Training.BnMomentum);
                    model.Compile(new Adam(config.Training.LearningRate));
                    var history = model.Fit(data.Train, batchSize: config.Training.BatchSize, epochs: config.Training.Epochs, verbose: 0,
                        validationData: data.Test, cancellationToken: cancellationToken);
                    for (int i = 0; i < history.Epochs.Count; i++)
                    {
                        rows.Add(new EpochResult(name, seed, history.Epochs[i], history.Loss[i], history.Accuracy[i],
                            history.ValLoss[i], history.ValAccuracy[i], history.Get("train_seconds")[i]));
                    }

                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name,-15} seed {seed}: val_accuracy {string.Join(" ", history.ValAccuracy.Select(a => a.ToString("0.000", CultureInfo.InvariantCulture)))}"));
                }
            }
        }
        catch
        {
            Directory.Delete(folder.Path, recursive: true);
            throw;
        }

        var result = new CompareResult(config, data.Reason, MachineInfo.Describe(), rows, Summarize(config, rows))
        {
            DatasetName = DatasetSelector.DisplayName(data.Kind),
        };
        folder.WriteJson("results.json", result);
        folder.WriteText("results.csv", Csv(result.Epochs));
        output.WriteLine($"Results: {folder.Path}");
        return result;
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
}
