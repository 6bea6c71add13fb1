using System.Globalization;
using System.Text;
using System.Text.Json;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Trains each variant with each seed with the landscape, activation-drift and gradient-shift (ICS) probes attached, then writes
/// <c>landscape.csv</c>, <c>drift.csv</c>, <c>ics.csv</c>, <c>analysis.json</c>, plots and <c>analysis.md</c>.
/// </summary>
public static class AnalyzeRunner
{
    /// <summary>Name of the file that records an analysis's config and data at its start (what <see cref="Resume(RunSession, string)"/> reads).</summary>
    public const string SweepFile = SweepFolder.RecordFile;

    private const string VariantsFolder = "variants";

    /// <summary>
    /// Runs the measurements into the new folder <paramref name="outputDir"/>. Each variant's measurements are kept as
    /// soon as it finishes (<c>variants/NAME.json</c>); an interrupted analysis keeps its folder (unless no variant had
    /// finished) and continues with <see cref="Resume(RunSession, string)"/>.
    /// </summary>
    /// <param name="session">The device, threads, output and cancellation token (<see cref="RunSession.For"/> with <see cref="AnalyzeConfig.Training"/> gives the one the config asks for).</param>
    /// <param name="config">The variants, probes and training settings.</param>
    /// <param name="outputDir">The folder to create.</param>
    /// <exception cref="ArgumentException">The config is out of range, or asks for another device or thread count than the session's.</exception>
    public static AnalyzeResult Run(RunSession session, AnalyzeConfig config, string outputDir) =>
        Run(session, config, outputDir, extra: null);

    /// <summary>
    /// <see cref="Run(RunSession, AnalyzeConfig, string)"/> with an extra callback per variant (tests use it to stop a
    /// run at a chosen epoch) and <paramref name="finish"/>, called with the result before the folder's lock is
    /// released (the CLI writes its report there).
    /// </summary>
    internal static AnalyzeResult Run(RunSession session, AnalyzeConfig config, string outputDir, Func<NormalizationVariant, Callbacks.Callback?>? extra,
        Action<AnalyzeResult>? finish = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        session.Check(config.Training);
        var (data, folder) = DatasetSelector.Prepare(config.Training, outputDir, session.Output);
        var provenance = Provenance.Capture();
        folder.WriteJson(SweepFile, new SweepRecord(config, DatasetSelector.Name(data.Kind), data.Location) { Runtime = session.Runtime, Provenance = provenance });
        return Measure(session, config, data, folder, resumed: false, provenance, extra, finish);
    }

    /// <summary>
    /// Continues an interrupted analysis: finished variants are read back, the others (including the one that was
    /// interrupted, from its start: the probes measure whole runs) are measured.
    /// </summary>
    /// <param name="session">The session the analysis recorded (<see cref="RunSession.Resume"/>): its device and thread count.</param>
    /// <param name="outputDir">The analysis's folder.</param>
    /// <exception cref="ModelFileException">The folder is not an analysis's, or it is complete.</exception>
    /// <exception cref="ArgumentException">The session runs another device or thread count than the analysis recorded.</exception>
    public static AnalyzeResult Resume(RunSession session, string outputDir) => Resume(session, outputDir, finish: null);

    /// <summary><see cref="Resume(RunSession, string)"/>, calling <paramref name="finish"/> with the result before the folder's lock is released.</summary>
    internal static AnalyzeResult Resume(RunSession session, string outputDir, Action<AnalyzeResult>? finish) =>
        SweepFolder.Resume<SweepRecord, AnalyzeResult>(session, outputDir, "analysis",
            (sweep, data, folder) => Measure(session, sweep.Config, data, folder, resumed: true, sweep.Provenance?.Resumed(Provenance.CommandLine()), extra: null, finish));

    private static AnalyzeResult Measure(RunSession session, AnalyzeConfig config, LoadedData data, RunFolder folder, bool resumed, Provenance? provenance,
        Func<NormalizationVariant, Callbacks.Callback?>? extra, Action<AnalyzeResult>? finish)
    {
        var output = session.Output;
        var landscape = new Dictionary<string, List<LandscapePoint>>(StringComparer.Ordinal);
        var drift = new Dictionary<string, List<DriftPoint>>(StringComparer.Ordinal);
        var ics = new Dictionary<string, List<IcsPoint>>(StringComparer.Ordinal);
        var runs = new List<AnalyzeRun>();
        var variants = folder.Child(VariantsFolder);
        try
        {
            using var scope = NewDisposeScope();
            var (images, labels) = data.Train.GetRange(0, Math.Min(config.ProbeBatch, data.Train.Count));
            foreach (var variant in config.Variants)
            {
                string name = ModelPresets.VariantName(variant);
                foreach (int seed in SeedsOf(config))
                {
                    string file = RunFile(name, seed);
                    bool earlier = File.Exists(variants.File(file));
                    var measured = earlier ? variants.ReadJson<VariantMeasurements>(file)
                        : MeasureOne(session, config, data, variant, seed, images, labels, extra?.Invoke(variant));
                    if (!earlier)
                    {
                        variants.WriteJson(file, measured);
                    }

                    Add(landscape, name, measured.Landscape.Select(p => p with { Seed = seed }));
                    Add(drift, name, measured.Drift.Select(p => p with { Seed = seed }));
                    Add(ics, name, measured.Ics.Select(p => p with { Seed = seed }));
                    runs.Add(new AnalyzeRun(name, seed, measured.FinalValAccuracy));
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name,-15} seed {seed}: {measured.Landscape.Count} probes, final test accuracy {measured.FinalValAccuracy:0.0000}{(earlier ? " (measured earlier)" : "")}"));
                }
            }
        }
        catch (Exception e)
        {
            if (!resumed && runs.Count == 0)
            {
                folder.Discard();
            }
            else
            {
                folder.WriteStatus(new RunStatus(e is OperationCanceledException ? RunState.Interrupted : RunState.Diverged, 0,
                    string.Create(CultureInfo.InvariantCulture, $"{runs.Count} of {config.Variants.Count * config.Seeds} runs measured; continue with AnalyzeRunner.Resume")));
            }

            folder.ReleaseLock();
            throw;
        }

        // The lock is held until the last file is written (the caller's report included): no second writer meanwhile.
        try
        {
            return Finish(session, config, data, folder, provenance, finish, landscape, drift, ics, runs);
        }
        finally
        {
            folder.ReleaseLock();
        }
    }

    private static AnalyzeResult Finish(RunSession session, AnalyzeConfig config, LoadedData data, RunFolder folder, Provenance? provenance, Action<AnalyzeResult>? finish,
        Dictionary<string, List<LandscapePoint>> landscape, Dictionary<string, List<DriftPoint>> drift, Dictionary<string, List<IcsPoint>> ics, List<AnalyzeRun> runs)
    {
        var result = new AnalyzeResult(config, session.Wording(data.Reason), MachineInfo.Describe(),
            landscape.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<LandscapePoint>)kv.Value, StringComparer.Ordinal),
            drift.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<DriftPoint>)kv.Value, StringComparer.Ordinal))
        {
            DatasetName = DatasetSelector.DisplayName(data.Kind),
            Ics = ics.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<IcsPoint>)kv.Value, StringComparer.Ordinal),
            Runs = runs,
            Provenance = provenance,
        };
        Write(folder, result);
        finish?.Invoke(result);
        folder.WriteStatus(new RunStatus(RunState.Complete, 0, string.Create(CultureInfo.InvariantCulture, $"{runs.Count} of {runs.Count} runs measured")));
        session.Output.WriteLine($"Measurements: {folder.Path}");
        return result;
    }

    /// <summary>The seeds of the runs: <see cref="TrainConfig.Seed"/> + 0, 1, ..., <see cref="AnalyzeConfig.Seeds"/> - 1.</summary>
    internal static IEnumerable<int> SeedsOf(AnalyzeConfig config) => Enumerable.Range(0, config.Seeds).Select(s => config.Training.Seed + s);

    /// <summary>The file under <c>variants/</c> that keeps one run's measurements.</summary>
    internal static string RunFile(string variant, int seed) => string.Create(CultureInfo.InvariantCulture, $"{variant}-seed{seed}.json");

    private static void Add<T>(Dictionary<string, List<T>> byVariant, string variant, IEnumerable<T> points)
    {
        if (!byVariant.TryGetValue(variant, out var list))
        {
            byVariant[variant] = list = [];
        }

        list.AddRange(points);
    }

    private static VariantMeasurements MeasureOne(RunSession session, AnalyzeConfig config, LoadedData data, NormalizationVariant variant, int seed,
        TorchSharp.torch.Tensor images, TorchSharp.torch.Tensor labels, Callbacks.Callback? extra)
    {
        var training = config.Training with { Seed = seed };
        manual_seed(seed);
        using var model = ModelPresets.Notebook(session, data.Train.Shape, data.Train.NumClasses, variant, training.BnMomentum);
        model.Compile(OptimizerFactory.Create(training, OptimizerFactory.StepsPerEpoch(data.Train.Count, training.BatchSize)));
        using var probe = new LandscapeProbe(images, labels, config.ProbeEvery);
        using var activations = new ActivationDriftProbe(images, labels, config.ProbeEvery);
        using var shift = new GradientShiftProbe(images, labels, config.ProbeEvery);
        var history = model.Fit(data.Train, batchSize: training.BatchSize, epochs: training.Epochs, verbose: 0,
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

        /// <summary>The commit, version, machine and command the analysis started with.</summary>
        public Provenance? Provenance { get; init; }
    }

    private sealed record VariantMeasurements(IReadOnlyList<LandscapePoint> Landscape, IReadOnlyList<DriftPoint> Drift, IReadOnlyList<IcsPoint> Ics, double FinalValAccuracy);

    /// <summary>Writes the measurements: <c>analysis.json</c>, <c>landscape.csv</c>, <c>drift.csv</c>, <c>ics.csv</c> (<c>Reporting.AnalysisReport.Write</c> adds the plots and <c>analysis.md</c>).</summary>
    internal static void Write(RunFolder folder, AnalyzeResult result)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(result);
        folder.WriteJson("analysis.json", result);
        var csv = new StringBuilder("variant,seed,step,loss,loss_min,loss_max,gradient_change_min,gradient_change_max,beta_smoothness,gradient_norm\n");
        foreach (var (variant, points) in result.Landscape)
        {
            foreach (var p in points)
            {
                csv.Append(CultureInfo.InvariantCulture,
                    $"{variant},{p.Seed},{p.Step},{p.Loss:R},{p.LossMin:R},{p.LossMax:R},{p.GradientChangeMin:R},{p.GradientChangeMax:R},{p.BetaSmoothness:R},{p.GradientNorm:R}\n");
            }
        }

        folder.WriteText("landscape.csv", csv.ToString());
        var driftCsv = new StringBuilder("variant,seed,step,relu,layer,p15,p50,p85\n");
        foreach (var (variant, points) in result.Drift)
        {
            foreach (var p in points)
            {
                driftCsv.Append(CultureInfo.InvariantCulture, $"{variant},{p.Seed},{p.Step},{p.Relu},{p.Layer},{p.P15:R},{p.P50:R},{p.P85:R}\n");
            }
        }

        folder.WriteText("drift.csv", driftCsv.ToString());
        var icsCsv = new StringBuilder("variant,seed,step,layer_index,layer,change,relative_change,cosine\n");
        foreach (var (variant, points) in result.Ics)
        {
            foreach (var p in points)
            {
                icsCsv.Append(CultureInfo.InvariantCulture, $"{variant},{p.Seed},{p.Step},{p.LayerIndex},{p.Layer},{p.Change:R},{p.RelativeChange:R},{p.Cosine:R}\n");
            }
        }

        folder.WriteText("ics.csv", icsCsv.ToString());
    }


}
