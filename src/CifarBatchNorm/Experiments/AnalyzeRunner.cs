using System.Globalization;
using System.Text;
using System.Text.Json;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Trains each variant once with the landscape, activation-drift and gradient-shift (ICS) probes attached, then writes
/// <c>landscape.csv</c>, <c>drift.csv</c>, <c>ics.csv</c>, <c>analysis.json</c>, plots and <c>analysis.md</c>.
/// </summary>
public static class AnalyzeRunner
{
    /// <summary>Runs the measurements into the new folder <paramref name="outputDir"/>.</summary>
    public static AnalyzeResult Run(AnalyzeConfig config, string outputDir, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(output);
        config.Validate();
        var (data, folder) = DatasetSelector.Prepare(config.Training, outputDir, output);
        var landscape = new Dictionary<string, IReadOnlyList<LandscapePoint>>(StringComparer.Ordinal);
        var drift = new Dictionary<string, IReadOnlyList<DriftPoint>>(StringComparer.Ordinal);
        var ics = new Dictionary<string, IReadOnlyList<IcsPoint>>(StringComparer.Ordinal);
        try
        {
            using var scope = NewDisposeScope();
            var (images, labels) = data.Train.GetRange(0, Math.Min(config.ProbeBatch, data.Train.Count));
            foreach (var variant in config.Variants)
            {
                string name = ModelPresets.VariantName(variant);
                manual_seed(config.Training.Seed);
                using var model = ModelPresets.Notebook(data.Train.Shape, data.Train.NumClasses, variant, config.Training.BnMomentum);
                model.Compile(OptimizerFactory.Create(config.Training, OptimizerFactory.StepsPerEpoch(data.Train.Count, config.Training.BatchSize)));
                using var probe = new LandscapeProbe(images, labels, config.ProbeEvery);
                using var activations = new ActivationDriftProbe(images, labels, config.ProbeEvery);
                using var shift = new GradientShiftProbe(images, labels, config.ProbeEvery);
                var history = model.Fit(data.Train, batchSize: config.Training.BatchSize, epochs: config.Training.Epochs, verbose: 0,
                    validationData: data.Test, callbacks: [probe, activations, shift], cancellationToken: cancellationToken);
                landscape[name] = probe.Points;
                drift[name] = activations.Points;
                ics[name] = shift.Points;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-15} {probe.Points.Count} probes, final val_accuracy {history.ValAccuracy[^1]:0.0000}"));
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

        var result = new AnalyzeResult(config, data.Reason, MachineInfo.Describe(), landscape, drift)
        {
            DatasetName = DatasetSelector.DisplayName(data.Kind),
            Ics = ics,
        };
        Write(folder, result);
        output.WriteLine($"Measurements: {folder.Path}");
        return result;
    }

    /// <summary>Writes the measurements: <c>analysis.json</c>, <c>landscape.csv</c>, <c>drift.csv</c>, <c>ics.csv</c> (<c>Reporting.AnalysisReport.Write</c> adds the plots and <c>analysis.md</c>).</summary>
    internal static void Write(RunFolder folder, AnalyzeResult result)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(result);
        folder.WriteJson("analysis.json", result);
        var csv = new StringBuilder("variant,step,loss,loss_min,loss_max,gradient_change_min,gradient_change_max,beta_smoothness,gradient_norm\n");
        foreach (var (variant, points) in result.Landscape)
        {
            foreach (var p in points)
            {
                csv.Append(CultureInfo.InvariantCulture,
                    $"{variant},{p.Step},{p.Loss:R},{p.LossMin:R},{p.LossMax:R},{p.GradientChangeMin:R},{p.GradientChangeMax:R},{p.BetaSmoothness:R},{p.GradientNorm:R}\n");
            }
        }

        folder.WriteText("landscape.csv", csv.ToString());
        var driftCsv = new StringBuilder("variant,step,relu,layer,p15,p50,p85\n");
        foreach (var (variant, points) in result.Drift)
        {
            foreach (var p in points)
            {
                driftCsv.Append(CultureInfo.InvariantCulture, $"{variant},{p.Step},{p.Relu},{p.Layer},{p.P15:R},{p.P50:R},{p.P85:R}\n");
            }
        }

        folder.WriteText("drift.csv", driftCsv.ToString());
        var icsCsv = new StringBuilder("variant,step,layer_index,layer,change,relative_change,cosine\n");
        foreach (var (variant, points) in result.Ics)
        {
            foreach (var p in points)
            {
                icsCsv.Append(CultureInfo.InvariantCulture, $"{variant},{p.Step},{p.LayerIndex},{p.Layer},{p.Change:R},{p.RelativeChange:R},{p.Cosine:R}\n");
            }
        }

        folder.WriteText("ics.csv", icsCsv.ToString());
    }


}
