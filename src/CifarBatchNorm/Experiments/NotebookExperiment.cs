using System.Globalization;
using System.Reflection;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// The notebook, top to bottom: load the data, build the model, print its summary, train with Adam (checkpointing
/// every epoch), evaluate on the test split, and write the run folder. Runs can be resumed.
/// </summary>
public static class NotebookExperiment
{
    /// <summary>Runs the notebook with <paramref name="config"/> into the new run folder <paramref name="outputDir"/>.</summary>
    /// <param name="session">
    /// The device, threads, output (banner, summary, progress, result) and cancellation token (<see cref="RunSession.For"/>
    /// gives the one <paramref name="config"/> asks for). Cancellation stops training before the next step: the folder
    /// then holds the last finished epoch's checkpoint, its status says <c>interrupted</c>, and
    /// <see cref="OperationCanceledException"/> is thrown.
    /// </param>
    /// <param name="config">Settings; <see cref="TrainConfig.Notebook"/> is the notebook's.</param>
    /// <param name="outputDir">The run folder to create (must not exist or be empty).</param>
    /// <param name="callbacks">Extra callbacks for the fit (called after the run's own checkpoint).</param>
    /// <exception cref="ArgumentException">The config is out of range, or asks for another device or thread count than the session's.</exception>
    public static RunResult Run(RunSession session, TrainConfig config, string outputDir, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        return Run(session, config, _ => outputDir, callbacks);
    }

    /// <summary>
    /// Runs the notebook with <paramref name="config"/> into a new run folder chosen once the data is loaded, so its
    /// name can say which dataset <see cref="DatasetKind.Auto"/> settled on (for example <c>runs/fashion-mnist-...</c>).
    /// </summary>
    /// <param name="session">The device, threads, output and cancellation token, as in the other overload.</param>
    /// <param name="config">Settings; <see cref="TrainConfig.Notebook"/> is the notebook's.</param>
    /// <param name="chooseOutputDir">Gives the run folder to create (must not exist or be empty) for the dataset actually used.</param>
    /// <param name="callbacks">Extra callbacks for the fit (called after the run's own checkpoint).</param>
    public static RunResult Run(RunSession session, TrainConfig config, Func<DatasetKind, string> chooseOutputDir, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(chooseOutputDir);
        config.Validate();
        session.Check(config);
        var output = session.Output;
        var runtime = session.Runtime;
        var data = DatasetSelector.Load(config, output);
        var policy = session.Policy;
        output.WriteLine($"Runtime: {runtime}.");
        output.WriteLine($"Execution: {policy}.");
        var (validation, validationSamples) = DescribeValidation(config, data);
        var folder = RunFolder.Create(chooseOutputDir(data.Kind));
        var record = new RunRecord
        {
            Config = config,
            Dataset = DatasetSelector.Name(data.Kind),
            DataLocation = data.Location,
            DatasetReason = session.Wording(data.Reason),
            InputShape = [data.Train.Shape.Height, data.Train.Shape.Width, data.Train.Shape.Channels],
            Classes = data.Train.NumClasses,
            TrainSamples = data.Train.Count,
            TestSamples = data.Test.Count,
            Validation = validation,
            ValidationSamples = validationSamples,
            Runtime = runtime,
            Execution = policy.ToString(),
            Version = Version,
            Machine = MachineInfo.Describe(),
            CpuModel = MachineInfo.CpuModel(),
            StartedUtc = DateTimeOffset.UtcNow,
            Provenance = Provenance.Capture(),
        };
        try
        {
            // Inside the try: a full disk here must not leave a folder holding only its lock file.
            folder.WriteJson(RunFolder.ConfigFile, record);
            folder.WriteStatus(new RunStatus(RunState.Running, 0, "started"));
            return Train(session, folder, record, data, callbacks, resume: false);
        }
        catch when (!RunCheckpoint.Exists(folder))
        {
            folder.Discard(); // nothing worth keeping yet
            throw;
        }
        finally
        {
            folder.ReleaseLock();
        }
    }

    /// <summary>
    /// Continues the run in <paramref name="runDir"/> from its last finished epoch, with the weights, optimizer
    /// state, RNG state, epoch counter, history and callback state restored; the result equals an uninterrupted
    /// run's. With <paramref name="epochs"/>, a finished or interrupted run is extended to that many epochs in all
    /// (Keras's <c>initial_epoch</c>): the history is appended to.
    /// </summary>
    /// <param name="session">
    /// The device, threads, output and cancellation token, as in <see cref="Run(RunSession, TrainConfig, string, IEnumerable{Callback}?)"/>;
    /// it must run the device and thread count the run recorded (<see cref="RunSession.Resume"/> gives that session).
    /// </param>
    /// <param name="runDir">The run folder.</param>
    /// <param name="callbacks">Extra callbacks for the fit.</param>
    /// <param name="epochs">Total epochs to reach; <c>null</c> (the default) keeps the run's own.</param>
    /// <exception cref="ModelFileException">The folder is not a resumable run.</exception>
    /// <exception cref="ArgumentException">The session runs another device or thread count than the run recorded.</exception>
    public static RunResult Resume(RunSession session, string runDir, IEnumerable<Callback>? callbacks = null, int? epochs = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        var folder = RunFolder.Open(runDir);
        folder.AcquireLock();
        try
        {
            return Resume(session, folder, callbacks, epochs);
        }
        finally
        {
            folder.ReleaseLock();
        }
    }

    private static RunResult Resume(RunSession session, RunFolder folder, IEnumerable<Callback>? callbacks, int? epochs)
    {
        var record = folder.ReadJson<RunRecord>(RunFolder.ConfigFile);
        var status = File.Exists(folder.File(RunFolder.StatusFile)) ? folder.ReadJson<RunStatus>(RunFolder.StatusFile) : null;
        if (epochs is int total)
        {
            ConfigCheck.InRange($"{nameof(TrainConfig)}.{nameof(TrainConfig.Epochs)}", total, TrainConfig.EpochsRange);
            int done = status?.CompletedEpochs ?? 0;
            if (total <= done)
            {
                throw new ArgumentException(
                    $"{nameof(TrainConfig)}.{nameof(TrainConfig.Epochs)} {total} is not more than the {done} epochs {folder.Path} has done: give a larger total.",
                    $"{nameof(TrainConfig)}.{nameof(TrainConfig.Epochs)}");
            }

            if (record.Config.LearningRateSchedule == LearningRateScheduleKind.Cosine && total != record.Config.Epochs)
            {
                throw new ArgumentException(
                    $"{folder.Path} decays its learning rate with a cosine schedule over its {record.Config.Epochs} epochs; the schedule cannot be extended. Start a new run with more epochs.",
                    $"{nameof(TrainConfig)}.{nameof(TrainConfig.Epochs)}");
            }

            record = record with { Config = record.Config with { Epochs = total } };
        }
        else if (status?.State == RunState.Complete)
        {
            throw new ModelFileException($"{folder.Path} holds a complete run; there is nothing to resume. Extend it to more epochs, or start a new run in another folder.");
        }

        session.Check(record.Config, record.Runtime?.Threads ?? record.Config.Threads);
        RunCheckpoint.CleanLeftovers(folder);
        if (epochs is not null)
        {
            folder.WriteJson(RunFolder.ConfigFile, record);
        }

        var data = DatasetSelector.LoadRecorded(record.Config with { Dataset = DatasetSelector.Parse(record.Dataset), DataDir = record.DataLocation ?? record.Config.DataDir }, session.Output);
        return Train(session, folder, record, data, callbacks, resume: true);
    }

    private static RunResult Train(RunSession session, RunFolder folder, RunRecord record, LoadedData data, IEnumerable<Callback>? callbacks, bool resume)
    {
        var config = record.Config;
        var output = session.Output;
        output.WriteLine(data.Banner);
        string validation = record.Validation ?? DescribeValidation(config, data).Description;
        output.WriteLine($"Validation: {validation}; the final evaluation uses the test set.");
        output.WriteLine($"Optimizer: {OptimizerFactory.Describe(config)}.");
        manual_seed(config.Seed);
        using var model = ModelPresets.Notebook(session, data.Train.Shape, data.Train.NumClasses, config.Variant, config.BnMomentum, config.Augment);
        using var summary = new StringWriter();
        model.Summary(summary);
        int steps = StepsPerEpoch(config, data);
        model.Compile(OptimizerFactory.Create(config, steps));
        var (history, states) = resume ? RunCheckpoint.Restore(folder, model) : (new History(), null);
        int done = history.Epochs.Count > 0 ? history.Epochs[^1] : 0;
        if (resume)
        {
            output.WriteLine($"Resuming {folder.Path} after epoch {done} of {config.Epochs}.");
            output.WriteLine($"Execution: {session.Policy}.");
        }

        output.Write(summary.ToString());
        folder.WriteText("summary.txt", summary.ToString());
        // The checkpoint goes last: it saves the state the other callbacks reached in the epoch, and gives it back to
        // them when a resumed run begins.
        var others = ConfiguredCallbacks(config, folder).Concat(callbacks ?? []).ToList();
        var checkpoint = new RunCheckpoint(folder, history, others, states);
        var all = new List<Callback>(others) { checkpoint };
        try
        {
            model.Fit(data.Train, batchSize: config.BatchSize, epochs: config.Epochs, verbose: 1,
                validationData: config.ValidationSplit > 0 ? null : data.Test, callbacks: all, initialEpoch: done, output: output,
                cancellationToken: session.CancellationToken, sampling: config.BatchSampling, validationSplit: config.ValidationSplit);
        }
        catch (OperationCanceledException)
        {
            folder.WriteStatus(new RunStatus(RunState.Interrupted, checkpoint.LastEpoch, $"interrupted during epoch {checkpoint.LastEpoch + 1}"));
            throw;
        }
        catch (TrainingDivergedException e)
        {
            folder.WriteStatus(new RunStatus(RunState.Diverged, checkpoint.LastEpoch, e.Message));
            throw;
        }
        finally
        {
            all.OfType<IDisposable>().ToList().ForEach(d => d.Dispose());
        }

        int evaluationBatch = model.Policy.EvaluationBatchSize(config.BatchSize);
        var evaluation = model.Evaluate(data.Test, batchSize: evaluationBatch);
        output.WriteLine(RunFolder.Describe(evaluation));
        var details = RunEvaluation.From(evaluation, ConfusionMatrix.Compute(model, data.Test, evaluationBatch), validation);
        model.SaveWeights(folder.File(RunFolder.WeightsFile));
        folder.WriteHistory(checkpoint.History);
        folder.WriteJson(RunFolder.EvaluationFile, details);
        folder.WriteStatus(new RunStatus(RunState.Complete, checkpoint.LastEpoch, "complete"));
        output.WriteLine($"Run folder: {folder.Path}");
        return new RunResult(folder.Path, checkpoint.History, evaluation, record)
        {
            Details = details,
            Advice = QuickRunCheck.Advise(config, checkpoint.History, StepsPerEpoch(config, data)),
        };
    }

    /// <summary>Where the run validates, in words, and on how many images; a split that leaves no image on one side is a config error.</summary>
    private static (string Description, int Samples) DescribeValidation(TrainConfig config, LoadedData data)
    {
        try
        {
            return (ValidationSet.Describe(config.ValidationSplit, data.Train.Count, data.Test.Count),
                ValidationSet.Samples(config.ValidationSplit, data.Train.Count, data.Test.Count));
        }
        catch (ArgumentException e) when (e is not ArgumentOutOfRangeException)
        {
            throw ConfigCheck.Invalid($"{nameof(TrainConfig)}.{nameof(TrainConfig.ValidationSplit)}",
                string.Create(CultureInfo.InvariantCulture,
                    $"{config.ValidationSplit} leaves no image for training or for validation among the {data.Train.Count:N0} training images; use more images or another split."));
        }
    }

    private static IEnumerable<Callback> ConfiguredCallbacks(TrainConfig config, RunFolder folder)
    {
        if (config.CheckpointBest)
        {
            yield return new ModelCheckpoint(folder.File("best.pt"), monitor: "val_accuracy", saveBestOnly: true);
        }

        if (config.ReduceLrPatience is int reducePatience)
        {
            yield return new ReduceLROnPlateau(patience: reducePatience);
        }

        if (config.EarlyStoppingPatience is int patience)
        {
            yield return new EarlyStopping(patience: patience, restoreBestWeights: true);
        }

        if (config.TensorBoardDir is string logDir)
        {
            yield return new TensorBoard(logDir);
        }
    }

    /// <summary>Optimizer steps per epoch of a run: its training images (after any validation split) in batches.</summary>
    private static int StepsPerEpoch(TrainConfig config, LoadedData data) =>
        OptimizerFactory.StepsPerEpoch(Sequential.ValidationSplitAt(data.Train.Count, config.ValidationSplit), config.BatchSize);

    /// <summary>Loads a model (a run's, or a file from elsewhere) and evaluates it on a dataset's test split.</summary>
    /// <param name="session">Where to evaluate (its device and threads) and where the result goes.</param>
    /// <param name="modelPath">
    /// A run folder, a weights file inside one (<c>.pt</c>, <c>.weights.h5</c>, <c>.h5</c>, <c>.safetensors</c>), a
    /// <c>.keras</c> archive, or a model file from elsewhere (<see cref="StandaloneModel"/>).
    /// </param>
    /// <param name="dataDir">Overrides the data location recorded in the run. The default value is the recorded one.</param>
    /// <param name="dataset">
    /// The dataset to evaluate on; its images must have the model's input shape. The default value,
    /// <see cref="DatasetKind.Auto"/>, takes the run's dataset, or for a model without a run the one its input shape
    /// names (28x28x1 Fashion-MNIST, else CIFAR-10).
    /// </param>
    /// <param name="architecture">For bare weights without a run folder: one of <see cref="StandaloneModel.Architectures"/>. The default value is <c>null</c>.</param>
    /// <param name="testLimit">Evaluate on the first N test images only. The default value, <c>null</c>, keeps the run's limit (none for a model from elsewhere).</param>
    /// <param name="wholeTestSet">Evaluate on every test image, even when the run trained with a test limit. The default value is <c>false</c>.</param>
    /// <exception cref="ArgumentException">The dataset's images or classes do not fit the model (parameter <c>TrainConfig.Dataset</c>), or both <paramref name="testLimit"/> and <paramref name="wholeTestSet"/> are given.</exception>
    public static EvaluationResult Evaluate(RunSession session, string modelPath, string? dataDir = null,
        DatasetKind dataset = DatasetKind.Auto, string? architecture = null, int? testLimit = null, bool wholeTestSet = false)
    {
        if (wholeTestSet && testLimit is not null)
        {
            throw new ArgumentException(
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.TestLimit)} {testLimit} limits the test set that the whole-test-set evaluation asks for in full; give one or the other.",
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.TestLimit)}");
        }

        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var output = session.Output;
        if (testLimit is int limit)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1, $"{nameof(TrainConfig)}.{nameof(TrainConfig.TestLimit)}");
        }

        using var trained = TrainedModel.Open(session, modelPath, architecture);
        if (trained.CheckpointNote("evaluating") is string note)
        {
            output.WriteLine(note);
        }

        var model = trained.Model;
        var record = trained.Record;
        bool recorded = record is not null && dataset == DatasetKind.Auto;
        // A model without a run record: its input shape says the dataset unless --dataset names one.
        var kind = dataset != DatasetKind.Auto ? dataset
            : record is not null ? DatasetSelector.Parse(record.Dataset)
            : model.InputShape.Equals(new Layers.LayerShape(28, 28, 1)) ? DatasetKind.FashionMnist : DatasetKind.Cifar10;
        var config = (record?.Config ?? TrainConfig.Notebook) with
        {
            Dataset = kind,
            DataDir = dataDir ?? record?.DataLocation ?? record?.Config.DataDir,
            TrainLimit = 1,
            TestLimit = wholeTestSet ? null : testLimit ?? record?.Config.TestLimit,
        };
        var data = recorded ? DatasetSelector.LoadRecorded(config, output) : DatasetSelector.Load(config, output);
        CheckFits(model, data);
        output.WriteLine(data.Banner);
        var result = model.Evaluate(data.Test, batchSize: 1024);
        output.WriteLine(RunFolder.Describe(result));
        output.WriteLine("Per class, on the test set (accuracy = the class's recall):");
        output.Write(ConfusionMatrix.Compute(model, data.Test, 1024).FormatTable());
        return result;
    }

    /// <summary>The dataset's images must be the model's input, and its classes the model's outputs.</summary>
    private static void CheckFits(Sequential model, LoadedData data)
    {
        var shape = data.Test.Shape;
        var input = model.InputShape;
        string name = DatasetSelector.Name(data.Kind);
        if (!input.Equals(new Layers.LayerShape(shape.Height, shape.Width, shape.Channels)))
        {
            throw new ArgumentException(
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.Dataset)} {name} has {shape} images, but the model takes {string.Join('x', input.Dims)}; evaluate it on a dataset with its input shape.",
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.Dataset)}");
        }

        if (model.OutputShape.Features != data.Test.NumClasses)
        {
            throw new ArgumentException(
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.Dataset)} {name} has {data.Test.NumClasses} classes, but the model outputs {model.OutputShape.Features}; evaluate it on a dataset with as many classes.",
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.Dataset)}");
        }
    }

    /// <summary>The library's informational version.</summary>
    public static string Version =>
        typeof(NotebookExperiment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
