using System.Globalization;
using System.Text;
using CifarBatchNorm.Runtime;
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
    /// <summary>Name of the file that records a comparison's config and data at its start (what <see cref="Resume(RunSession, string)"/> reads).</summary>
    public const string SweepFile = SweepFolder.RecordFile;

    /// <summary>Name of the folder that holds one subfolder per run of the grid.</summary>
    public const string RunsFolder = "runs";

    private const string RunResultFile = "result.json";

    /// <summary>
    /// Runs the comparison and writes its rows (<c>results.json</c>, <c>results.csv</c>) into <paramref name="outputDir"/>;
    /// <c>Reporting.CompareReport.Write</c> adds the plots and <c>report.md</c>. Every run of the grid checkpoints
    /// after each epoch and keeps its result when it ends; after each run <c>results.csv</c> holds every finished
    /// row. An interrupted or failed comparison keeps its folder (unless nothing had finished) and continues with
    /// <see cref="Resume(RunSession, string)"/>.
    /// </summary>
    /// <param name="session">The device, threads, output and cancellation token (<see cref="RunSession.For"/> with <see cref="CompareConfig.Training"/> gives the one the config asks for).</param>
    /// <param name="config">The grid and its training settings.</param>
    /// <param name="outputDir">The folder to create.</param>
    /// <exception cref="ArgumentException">The config is out of range, or asks for another device or thread count than the session's.</exception>
    public static CompareResult Run(RunSession session, CompareConfig config, string outputDir) =>
        Run(session, config, outputDir, extra: null);

    /// <summary><see cref="Run(RunSession, CompareConfig, string)"/> with an extra callback per run (tests use it to stop a run at a chosen epoch) and <paramref name="finish"/>, called with the result before the folder's lock is released (the CLI writes its report there).</summary>
    internal static CompareResult Run(RunSession session, CompareConfig config, string outputDir, Func<GridCell, Callbacks.Callback?>? extra,
        Action<CompareResult>? finish = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        session.Check(config.Training);
        var (data, folder) = DatasetSelector.Prepare(config.Training, outputDir, session.Output);
        var provenance = Provenance.Capture();
        try
        {
            folder.WriteJson(SweepFile, new SweepRecord(config, DatasetSelector.Name(data.Kind), session.Wording(data.Reason), data.Location) { Runtime = session.Runtime, Execution = session.Policy.ToString(), Provenance = provenance });
        }
        catch
        {
            folder.Discard(); // a full disk at the start leaves no folder holding only its lock file
            throw;
        }

        return RunGrid(session, config, data, folder, resumed: false, provenance, extra, finish);
    }

    /// <summary>
    /// Continues an interrupted comparison in <paramref name="outputDir"/>: finished runs are read back, the run that
    /// was interrupted continues from its last checkpoint (bit for bit as if it had not stopped), the rest run.
    /// </summary>
    /// <param name="session">The session the comparison recorded (<see cref="RunSession.Resume"/>): its device and thread count.</param>
    /// <param name="outputDir">The comparison's folder.</param>
    /// <exception cref="ModelFileException">The folder is not a comparison's, or it is complete.</exception>
    /// <exception cref="ArgumentException">The session runs another device or thread count than the comparison recorded.</exception>
    public static CompareResult Resume(RunSession session, string outputDir) => Resume(session, outputDir, finish: null);

    /// <summary>
    /// <see cref="Resume(RunSession, string)"/>, calling <paramref name="finish"/> with the result before the folder's
    /// lock is released and the sweep marked complete (the CLI writes its report there).
    /// </summary>
    internal static CompareResult Resume(RunSession session, string outputDir, Action<CompareResult>? finish) =>
        SweepFolder.Resume<SweepRecord, CompareResult>(session, outputDir, "comparison",
            // The result names the dataset as the sweep's start did (the reloaded data's reason would say "recorded").
            (sweep, data, folder) => RunGrid(session, sweep.Config, sweep.DatasetReason is { Length: > 0 } reason ? data with { Reason = reason } : data, folder, resumed: true,
                sweep.Provenance?.Resumed(Provenance.CommandLine()), extra: null, finish));

    private static CompareResult RunGrid(RunSession session, CompareConfig config, LoadedData data, RunFolder folder, bool resumed, Provenance? provenance,
        Func<GridCell, Callbacks.Callback?>? extra, Action<CompareResult>? finish = null)
    {
        var output = session.Output;
        if (session.Policy.FusedKernels)
        {
            output.WriteLine($"Execution: {session.Policy}.");
        }

        var cells = config.Cells().Where(c => config.Shard?.Contains(c.Index) ?? true).ToList();
        var rows = new List<EpochResult>();
        var runs = new List<RunOutcome>();
        try
        {
            foreach (var cell in cells)
            {
                var runFolder = folder.Child(Path.Combine(RunsFolder, string.Create(CultureInfo.InvariantCulture, $"run-{cell.Index:D4}")));
                bool earlier = File.Exists(runFolder.File(RunResultFile));
                var run = earlier ? runFolder.ReadJson<FinishedRun>(RunResultFile) : RunOne(session, config, data, cell, runFolder, extra?.Invoke(cell));
                if (!earlier)
                {
                    runFolder.WriteJson(RunResultFile, run);
                    RunCheckpoint.Remove(runFolder);
                }

                rows.AddRange(run.Epochs);
                runs.Add(run.Outcome);
                folder.WriteText("results.csv", Csv(rows));
                folder.WriteStatus(new RunStatus(RunState.Running, 0, string.Create(CultureInfo.InvariantCulture, $"{runs.Count} of {cells.Count} runs finished")));
                var outcome = run.Outcome;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{outcome.Variant,-15} seed {outcome.Seed} lr {cell.LearningRate:G3} batch {cell.BatchSize}: val_accuracy {string.Join(" ", run.Epochs.Select(e => e.ValAccuracy.ToString("0.000", CultureInfo.InvariantCulture)))}{(outcome.Diverged ? $" ({outcome.Message})" : "")}{(earlier ? " (finished earlier)" : "")}"));
            }
        }
        catch (Exception e)
        {
            bool kept = resumed || runs.Count > 0 || Directory.EnumerateFiles(folder.File(RunsFolder), RunCheckpoint.PointerFile, SearchOption.AllDirectories).Any();
            if (!kept)
            {
                folder.Discard();
                throw;
            }

            folder.WriteStatus(new RunStatus(e is OperationCanceledException ? RunState.Interrupted : RunState.Diverged, 0,
                string.Create(CultureInfo.InvariantCulture, $"{runs.Count} of {cells.Count} runs finished; continue with CompareRunner.Resume")));
            folder.ReleaseLock();
            throw;
        }

        // The lock is held until the last file is written (the caller's report included): no second writer meanwhile.
        try
        {
            var result = new CompareResult(config, session.Wording(data.Reason), MachineInfo.Describe(), rows, Summarize(config, rows, runs))
            {
                Runs = runs,
                DatasetName = DatasetSelector.DisplayName(data.Kind),
                ClassNames = data.Test.ClassNames,
                Provenance = provenance,
                Validation = ValidationSet.Describe(config.Training.ValidationSplit, data.Train.Count, data.Test.Count),
                RenormSchedules = RenormSchedules(config, data.Train.Count),
            };
            WriteResults(folder, result);
            finish?.Invoke(result);
            folder.WriteStatus(new RunStatus(RunState.Complete, 0, string.Create(CultureInfo.InvariantCulture, $"{cells.Count} of {cells.Count} runs finished")));
            output.WriteLine($"Results: {folder.Path}");
            return result;
        }
        finally
        {
            folder.ReleaseLock();
        }
    }

    /// <summary>The renorm schedule of each batch size of the grid, in words; empty when the grid has no renorm variant.</summary>
    internal static IReadOnlyList<string> RenormSchedules(CompareConfig config, int trainImages)
    {
        if (!config.Variants.Contains(NormalizationVariant.Renorm))
        {
            return [];
        }

        int trainCount = Sequential.ValidationSplitAt(trainImages, config.Training.ValidationSplit);
        return config.GridBatchSizes.Select(b =>
        {
            int total = config.Training.Epochs * OptimizerFactory.StepsPerEpoch(trainCount, b);
            return string.Create(CultureInfo.InvariantCulture, $"batch {b} ({total:N0} steps): {ModelPresets.RenormScheduleFor(total)}");
        }).ToList();
    }

    /// <summary>Whether the comparison in <paramref name="outputDir"/> finished: its results are written and its status says so.</summary>
    internal static bool IsComplete(string outputDir) =>
        File.Exists(Path.Combine(outputDir, ResultsFile)) && File.Exists(Path.Combine(outputDir, RunFolder.StatusFile))
        && RunFolder.OpenExisting(outputDir).ReadJson<RunStatus>(RunFolder.StatusFile).State == RunState.Complete;

    /// <summary>How many runs of the comparison in <paramref name="outputDir"/> have finished, of how many, from its <c>status.json</c>.</summary>
    internal static string Progress(string outputDir) => SweepFolder.Progress(outputDir, "no run finished");

    /// <summary>What a comparison records at its start, so that it can be resumed with the same data.</summary>
    private sealed record SweepRecord(CompareConfig Config, string Dataset, string DatasetReason, string? DataLocation) : SweepFolder.IRecord
    {
        /// <summary>Commit, version, machine and command of the process that started the sweep; <c>null</c> in sweeps started before it was recorded.</summary>
        public Provenance? Provenance { get; init; }

        TrainConfig SweepFolder.IRecord.Training => Config.Training;

        /// <inheritdoc />
        public RuntimeSettings? Runtime { get; init; }

        /// <summary>How the models executed (<see cref="Training.ExecutionPolicy"/>); <c>null</c> in sweeps started before it was recorded.</summary>
        public string? Execution { get; init; }
    }

    /// <summary>One finished run of the grid: its epochs and how it ended.</summary>
    private sealed record FinishedRun(IReadOnlyList<EpochResult> Epochs, RunOutcome Outcome);

    /// <summary>Writes <c>results.json</c> and <c>results.csv</c>.</summary>
    private static void WriteResults(RunFolder folder, CompareResult result)
    {
        folder.WriteJson(ResultsFile, result);
        folder.WriteText("results.csv", Csv(result.Epochs));
    }

    /// <summary>Name of a comparison's results file.</summary>
    public const string ResultsFile = "results.json";

    /// <summary>
    /// Merges the results of the shards of one sweep (<c>compare --shard K/N</c>, each run on any machine) into the
    /// results an unsharded run gives: every row and outcome, in the grid's order, and the summaries over them.
    /// </summary>
    /// <param name="shardFolders">The shards' output folders; each holds a <c>results.json</c>.</param>
    /// <param name="outputDir">The folder to create for the merged results.</param>
    /// <param name="cancellationToken">Checked after each shard is read and before the output folder is created: a cancelled merge leaves nothing behind.</param>
    /// <exception cref="ArgumentException">A shard is missing or given twice, or the shards ran different configs.</exception>
    /// <exception cref="ModelFileException">A folder holds no readable results.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the merged results were written.</exception>
    public static CompareResult Merge(IReadOnlyList<string> shardFolders, string outputDir, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shardFolders);
        if (shardFolders.Count == 0)
        {
            throw new ArgumentException("Merge needs the output folders of the shards.", nameof(shardFolders));
        }

        var shards = shardFolders.Select(dir =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            return (Dir: dir, Result: ReadResults(dir));
        }).ToList();
        var unsharded = ShardMergeCheck.Validate(shards);
        var order = unsharded.Cells().ToDictionary(c => (c.Variant, c.Seed, c.LearningRate, c.BatchSize), c => c.Index);
        int Order(string variant, int seed, double lr, int batch) => order[(ModelPresets.ParseVariant(variant), seed, lr, batch)];
        var rows = shards.SelectMany(s => s.Result.Epochs).OrderBy(r => Order(r.Variant, r.Seed, r.LearningRate, r.BatchSize)).ThenBy(r => r.Epoch).ToList();
        var runs = shards.SelectMany(s => s.Result.Runs).OrderBy(o => Order(o.Variant, o.Seed, o.LearningRate, o.BatchSize)).ToList();
        var merged = new CompareResult(unsharded, shards[0].Result.Dataset, shards[0].Result.Machine, rows, Summarize(unsharded, rows, runs))
        {
            Runs = runs,
            DatasetName = shards[0].Result.DatasetName,
            ClassNames = shards[0].Result.ClassNames,
            Provenance = shards[0].Result.Provenance,   // the shards ran one commit's code (ShardMergeCheck); the command is shard 1's
            Validation = shards[0].Result.Validation,
            RenormSchedules = shards[0].Result.RenormSchedules,
        };
        cancellationToken.ThrowIfCancellationRequested();
        var folder = RunFolder.Create(outputDir);
        try
        {
            WriteResults(folder, merged);
        }
        finally
        {
            folder.ReleaseLock();
        }

        return merged;
    }

    /// <summary>
    /// Reads the <c>results.json</c> of a comparison folder, with the per-cell summaries recomputed from its rows by
    /// the current rules (so a report can be written again without training).
    /// </summary>
    /// <exception cref="ModelFileException">The folder has no readable <c>results.json</c>.</exception>
    public static CompareResult Read(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        var result = ReadResults(dir);
        // Results written before the per-step loss was recorded counted steps on Keras's running mean, which restarts
        // each epoch: that number is not kept.
        var runs = result.Runs.Select(r => r.LossCurve is null ? r with { StepsToLossTarget = null } : r).ToList();
        return result with { Runs = runs, Summaries = Summarize(result.Config, result.Epochs, runs) };
    }

    private static CompareResult ReadResults(string dir)
    {
        string path = Path.Combine(Path.GetFullPath(dir), ResultsFile);
        if (!File.Exists(path))
        {
            throw new ModelFileException($"{path} not found: pass the output folder of a comparison.");
        }

        CompareResult? result;
        try
        {
            result = System.Text.Json.JsonSerializer.Deserialize<CompareResult>(File.ReadAllText(path), RunFolder.Json);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new ModelFileException($"{path} is not a comparison's results ({e.Message.Split('\n')[0]}); it is damaged.", e);
        }

        // A truncated or edited file can parse with parts missing: each part merge and reports read must be there.
        if (result?.Config is null || result.Epochs is null || result.Runs is null || result.ClassNames is null || result.Config.Training is null
            || result.Epochs.Any(e => e is null) || result.Runs.Any(r => r is null))
        {
            throw new ModelFileException($"{path} is not a comparison's results (its config, epochs or runs are missing); it is damaged.");
        }

        return result;
    }

    /// <summary>
    /// One cell of the grid, checkpointed after every epoch into <paramref name="folder"/> and continued from its last
    /// checkpoint when there is one. A loss that becomes NaN or infinite is a result, not an error: the finished
    /// epochs are kept and the run is marked diverged.
    /// </summary>
    private static FinishedRun RunOne(RunSession session, CompareConfig config, LoadedData data, GridCell cell, RunFolder folder, Callbacks.Callback? extra)
    {
        string name = ModelPresets.VariantName(cell.Variant);
        double split = config.Training.ValidationSplit;
        int trainCount = Sequential.ValidationSplitAt(data.Train.Count, split);
        int stepsPerEpoch = OptimizerFactory.StepsPerEpoch(trainCount, cell.BatchSize);
        manual_seed(cell.Seed);
        using var model = ModelPresets.Notebook(session, data.Train.Shape, data.Train.NumClasses, cell.Variant, config.Training.BnMomentum,
            renormClipping: ModelPresets.RenormScheduleFor(config.Training.Epochs * stepsPerEpoch).ToClipping());
        model.Compile(OptimizerFactory.Create(config.Training with { BatchSize = cell.BatchSize }, stepsPerEpoch, cell.LearningRate));
        RunCheckpoint.CleanLeftovers(folder);
        var (history, states) = RunCheckpoint.Restore(folder, model);
        int done = history.Epochs.Count > 0 ? history.Epochs[^1] : 0;
        var recorder = new LossTargetRecorder(config.LossTarget, config.LossHalfLifeSteps);
        var checkpoint = new RunCheckpoint(folder, history, [recorder], done > 0 ? states : null);
        var callbacks = new List<Callbacks.Callback> { recorder };
        if (split > 0)
        {
            callbacks.Add(new TestSetRecorder(data.Test, model.Policy.EvaluationBatchSize(cell.BatchSize)));
        }

        callbacks.Add(checkpoint);
        if (extra is not null)
        {
            callbacks.Add(extra);
        }

        string message = "complete";
        bool diverged = false;
        try
        {
            model.Fit(data.Train, batchSize: cell.BatchSize, epochs: config.Training.Epochs, verbose: 0, validationData: split > 0 ? null : data.Test,
                callbacks: callbacks, initialEpoch: done, cancellationToken: session.CancellationToken, sampling: config.Training.BatchSampling, validationSplit: split);
        }
        catch (TrainingDivergedException e)
        {
            diverged = true;
            message = $"diverged at epoch {e.Epoch}, step {e.Step}";
        }

        var h = checkpoint.History;
        var epochs = h.Epochs.Select((epoch, i) => new EpochResult(name, cell.Seed, epoch, h.Loss[i], h.Accuracy[i], h.ValLoss[i],
            h.ValAccuracy[i], h.Get("train_seconds")[i], cell.LearningRate, cell.BatchSize)
        {
            TestLoss = split > 0 ? h.Get("test_loss")[i] : double.NaN,
            TestAccuracy = split > 0 ? h.Get("test_accuracy")[i] : double.NaN,
        }).ToList();
        var confusion = diverged ? null : ConfusionMatrix.Compute(model, data.Test, model.Policy.EvaluationBatchSize(cell.BatchSize)).Counts;
        return new FinishedRun(epochs, new RunOutcome(name, cell.Seed, cell.LearningRate, cell.BatchSize, recorder.ReachedAt, diverged, message,
            diverged ? recorder.DivergedAt ?? epochs.Count * stepsPerEpoch : epochs.Count * stepsPerEpoch)
        {
            Confusion = confusion,
            DivergedAtStep = diverged ? recorder.DivergedAt : null,
            LossCurve = recorder.Curve,
        });
    }

    /// <summary>
    /// Per variant, learning rate and batch size: final test accuracy with its 95% interval (runs that diverged left
    /// out), the test accuracy at the epoch of best validation accuracy (only with a validation split: choosing the
    /// epoch on the test set would flatter it), epochs to the target validation accuracy, steps to the loss target over
    /// the runs that reached it, and paired p-values against <c>none</c> over the same seeds.
    /// </summary>
    public static IReadOnlyList<VariantSummary> Summarize(CompareConfig config, IReadOnlyList<EpochResult> rows, IReadOnlyList<RunOutcome>? runs = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(rows);
        runs ??= [];
        bool split = config.Training.ValidationSplit > 0;
        var summaries = new List<VariantSummary>();
        foreach (int batchSize in config.GridBatchSizes)
        {
            foreach (double learningRate in config.GridLearningRates)
            {
                bool InCell(EpochResult r) => r.BatchSize == batchSize && r.LearningRate == learningRate;
                RunOutcome? Outcome(string variant, int seed) =>
                    runs.FirstOrDefault(o => o.Variant == variant && o.Seed == seed && o.BatchSize == batchSize && o.LearningRate == learningRate);
                bool Diverged(string variant, int seed) => Outcome(variant, seed)?.Diverged ?? false;
                Dictionary<int, List<EpochResult>> RunsOf(string variant) =>
                    rows.Where(r => r.Variant == variant && (InCell(r) || r.BatchSize == 0)).GroupBy(r => r.Seed)
                        .ToDictionary(g => g.Key, g => g.OrderBy(r => r.Epoch).ToList());
                Dictionary<int, double> FinalsOf(string variant) => RunsOf(variant)
                    .Where(kv => kv.Value.Count > 0 && !Diverged(variant, kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value[^1].TestAccuracyOrValidation);
                var noneFinals = FinalsOf("none");
                foreach (string variant in config.Variants.Select(ModelPresets.VariantName))
                {
                    var seeds = RunsOf(variant).Where(kv => kv.Value.Count > 0).ToList();
                    var outcomes = runs.Where(o => o.Variant == variant && o.BatchSize == batchSize && o.LearningRate == learningRate).ToList();
                    if (seeds.Count == 0 && outcomes.Count == 0)
                    {
                        continue;
                    }

                    var finalsBySeed = FinalsOf(variant);
                    double[] finals = finalsBySeed.Values.ToArray();
                    double[] bests = split
                        ? seeds.Where(kv => !Diverged(variant, kv.Key)).Select(kv => kv.Value.MaxBy(e => e.ValAccuracy)!.TestAccuracyOrValidation).ToArray()
                        : [];
                    int[] reached = seeds.Select(kv => kv.Value.FirstOrDefault(e => e.ValAccuracy >= config.TargetAccuracy)?.Epoch ?? 0).Where(e => e > 0).ToArray();
                    double[] steps = outcomes.Where(o => o.StepsToLossTarget is not null).Select(o => o.StepsToLossTarget!.Value).ToArray();
                    bool isNone = variant == "none";
                    int[] pairedSeeds = finalsBySeed.Keys.Where(noneFinals.ContainsKey).Order().ToArray();
                    var noneOutcomes = runs.Where(o => o.Variant == "none" && o.BatchSize == batchSize && o.LearningRate == learningRate).ToDictionary(o => o.Seed);
                    var stepPairs = outcomes.Where(o => noneOutcomes.ContainsKey(o.Seed)).OrderBy(o => o.Seed).ToList();
                    summaries.Add(new VariantSummary(variant, finals.Length > 0 ? finals.Average() : double.NaN, Math.Sqrt(Statistics.Variance(finals)),
                        reached.Length > 0 ? reached.Average() : null, reached.Length,
                        seeds.Count > 0 ? seeds.SelectMany(kv => kv.Value).Average(e => e.Seconds) : double.NaN)
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
                        FinalAccuracyPValueVsNone = isNone ? double.NaN
                            : Statistics.Paired(pairedSeeds.Select(s => finalsBySeed[s]).ToList(), pairedSeeds.Select(s => noneFinals[s]).ToList()).TPValue,
                        StepsPValueVsNone = isNone ? double.NaN
                            : Statistics.CensoredPaired(stepPairs.Select(o => o.StepsToLossTarget).ToList(), stepPairs.Select(o => noneOutcomes[o.Seed].StepsToLossTarget).ToList()).PValue,
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
                $"{r.Variant},{r.Seed},{r.LearningRate:R},{r.BatchSize},{r.Epoch},{r.Loss:R},{r.Accuracy:R},{r.ValLoss:R},{r.ValAccuracy:R},{r.Seconds:R}\n");
        }

        return sb.ToString();
    }
}
