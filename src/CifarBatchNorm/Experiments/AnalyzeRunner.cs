using System.Globalization;
using System.Text;
using System.Text.Json;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Trains each variant once with the landscape, activation-drift and gradient-shift (ICS) probes attached, then writes
/// <c>landscape.csv</c>, <c>drift.csv</c>, <c>ics.csv</c>, <c>analysis.json</c>, plots and <c>analysis.md</c>.
/// </summary>
public static class AnalyzeRunner
{
    /// <summary>Name of the file that records an analysis's config and data at its start (what <see cref="Resume"/> reads).</summary>
    public const string SweepFile = SweepFolder.RecordFile;

    private const string VariantsFolder = "variants";

    /// <summary>
    /// Runs the measurements into the new folder <paramref name="outputDir"/>. Each variant's measurements are kept as
    /// soon as it finishes (<c>variants/NAME.json</c>); an interrupted analysis keeps its folder (unless no variant had
    /// finished) and continues with <see cref="Resume"/>.
    /// </summary>
    /// <param name="session">The device, threads, output and cancellation token (<see cref="RunSession.For"/> with <see cref="AnalyzeConfig.Training"/> gives the one the config asks for).</param>
    /// <param name="config">The variants, probes and training settings.</param>
    /// <param name="outputDir">The folder to create.</param>
    /// <exception cref="ArgumentException">The config is out of range, or asks for another device or thread count than the session's.</exception>
    public static AnalyzeResult Run(RunSession session, AnalyzeConfig config, string outputDir) =>
        Run(session, config, outputDir, extra: null);

    /// <summary><see cref="Run(RunSession, AnalyzeConfig, string)"/> with an extra callback per variant (tests use it to stop a run at a chosen epoch).</summary>
    internal static AnalyzeResult Run(RunSession session, AnalyzeConfig config, string outputDir, Func<NormalizationVariant, Callbacks.Callback?>? extra)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        session.Check(config.Training);
        var (data, folder) = DatasetSelector.Prepare(config.Training, outputDir, session.Output);
        folder.WriteJson(SweepFile, new SweepRecord(config, DatasetSelector.Name(data.Kind), data.Location) { Runtime = session.Runtime });
        return Measure(session, config, data, folder, resumed: false, extra);
    }

    /// <summary>
    /// Continues an interrupted analysis: finished variants are read back, the others (including the one that was
    /// interrupted, from its start: the probes measure whole runs) are measured.
    /// </summary>
    /// <param name="session">The session the analysis recorded (<see cref="RunSession.Resume"/>): its device and thread count.</param>
    /// <param name="outputDir">The analysis's folder.</param>
    /// <exception cref="ModelFileException">The folder is not an analysis's, or it is complete.</exception>
    /// <exception cref="ArgumentException">The session runs another device or thread count than the analysis recorded.</exception>
    public static AnalyzeResult Resume(RunSession session, string outputDir) =>
        SweepFolder.Resume<SweepRecord, AnalyzeResult>(session, outputDir, "analysis",
            (sweep, data, folder) => Measure(session, sweep.Config, data, folder, resumed: true, extra: null));

    private static AnalyzeResult Measure(RunSession session, AnalyzeConfig config, LoadedData data, RunFolder folder, bool resumed,
        Func<NormalizationVariant, Callbacks.Callback?>? extra)
    {
        var output = session.Output;
        var landscape = new Dictionary<string, IReadOnlyList<LandscapePoint>>(StringComparer.Ordinal);
        var drift = new Dictionary<string, IReadOnlyList<DriftPoint>>(StringComparer.Ordinal);
        var ics = new Dictionary<string, IReadOnlyList<IcsPoint>>(StringComparer.Ordinal);
        var variants = folder.Child(VariantsFolder);
        try
        {
            using var scope = NewDisposeScope();
            var (images, labels) = data.Train.GetRange(0, Math.Min(config.ProbeBatch, data.Train.Count));
            foreach (var variant in config.Variants)
            {
                string name = ModelPresets.VariantName(variant);
                string file = name + ".json";
                bool earlier = File.Exists(variants.File(file));
                var measured = earlier ? variants.ReadJson<VariantMeasurements>(file) : MeasureOne(session, config, data, variant, images, labels, extra?.Invoke(variant));
                if (!earlier)
                {
                    variants.WriteJson(file, measured);
                }

                landscape[name] = measured.Landscape;
                drift[name] = measured.Drift;
                ics[name] = measured.Ics;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-15} {measured.Landscape.Count} probes, final val_accuracy {measured.FinalValAccuracy:0.0000}{(earlier ? " (measured earlier)" : "")}"));
            }
        }
        catch (Exception e)
        {
            if (!resumed && landscape.Count == 0)
            {
                folder.Discard();
            }
            else
            {
                folder.WriteStatus(new RunStatus(e is OperationCanceledException ? RunState.Interrupted : RunState.Diverged, 0,
                    string.Create(CultureInfo.InvariantCulture, $"{landscape.Count} of {config.Variants.Count} variants measured; continue with AnalyzeRunner.Resume")));
            }

            throw;
        }
        finally
        {
            folder.ReleaseLock();
        }

        var result = new AnalyzeResult(config, session.Wording(data.Reason), MachineInfo.Describe(), landscape, drift)
        {
            DatasetName = DatasetSelector.DisplayName(data.Kind),
            Ics = ics,
        };
        Write(folder, result);
        folder.WriteStatus(new RunStatus(RunState.Complete, 0, string.Create(CultureInfo.InvariantCulture, $"{config.Variants.Count} of {config.Variants.Count} variants measured")));
        output.WriteLine($"Measurements: {folder.Path}");
        return result;
    }

    private static VariantMeasurements MeasureOne(RunSession session, AnalyzeConfig config, LoadedData data, NormalizationVariant variant, TorchSharp.torch.Tensor images, TorchSharp.torch.Tensor labels,
        Callbacks.Callback? extra)
    {
        manual_seed(config.Training.Seed);
        using var model = ModelPresets.Notebook(session, data.Train.Shape, data.Train.NumClasses, variant, config.Training.BnMomentum);
        model.Compile(OptimizerFactory.Create(config.Training, OptimizerFactory.StepsPerEpoch(data.Train.Count, config.Training.BatchSize)));
        using var probe = new LandscapeProbe(images, labels, config.ProbeEvery);
        using var activations = new ActivationDriftProbe(images, labels, config.ProbeEvery);
        using var shift = new GradientShiftProbe(images, labels, config.ProbeEvery);
        var history = model.Fit(data.Train, batchSize: config.Training.BatchSize, epochs: config.Training.Epochs, verbose: 0,
            validationData: data.Test, callbacks: extra is null ? [probe, activations, shift] : [probe, activations, shift, extra], cancellationToken: session.CancellationToken);
        return new VariantMeasurements([.. probe.Points], [.. activations.Points], [.. shift.Points], history.ValAccuracy[^1]);
    }

    /// <summary>How many variants of the analysis in <paramref name="outputDir"/> are measured, from its <c>status.json</c>.</summary>
    internal static string Progress(string outputDir) => SweepFolder.Progress(outputDir, "no variant measured");

    private sealed record SweepRecord(AnalyzeConfig Config, string Dataset, string? DataLocation) : SweepFolder.IRecord
    {
        TrainConfig SweepFolder.IRecord.Training => Config.Training;

        /// <inheritdoc />
        public RuntimeSettings? Runtime { get; init; }
    }

    private sealed record VariantMeasurements(IReadOnlyList<LandscapePoint> Landscape, IReadOnlyList<DriftPoint> Drift, IReadOnlyList<IcsPoint> Ics, double FinalValAccuracy);

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
