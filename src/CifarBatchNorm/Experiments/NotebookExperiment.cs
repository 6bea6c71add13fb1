using System.Reflection;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// The notebook, top to bottom: load the data, build the model, print its summary, train with Adam, evaluate
/// on the test split, and write the run folder.
/// </summary>
public static class NotebookExperiment
{
    /// <summary>Runs the notebook with <paramref name="config"/> and writes the run folder <paramref name="outputDir"/>.</summary>
    /// <param name="config">Settings; <see cref="TrainConfig.Notebook"/> is the notebook's.</param>
    /// <param name="outputDir">The run folder to create (must not exist or be empty).</param>
    /// <param name="output">Where the banner, summary, progress and result go.</param>
    /// <param name="callbacks">Extra callbacks for the fit.</param>
    /// <param name="cancellationToken">Stops training between steps; nothing is written then.</param>
    public static RunResult Run(TrainConfig config, string outputDir, TextWriter output,
        IEnumerable<Callback>? callbacks = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(output);
        config.Validate();
        using var folder = RunFolder.Create(outputDir);
        var runtime = TorchRuntime.Initialize(config.Threads);
        var started = DateTimeOffset.UtcNow;

        var data = DatasetSelector.Load(config);
        output.WriteLine(data.Reason);

        manual_seed(config.Seed);
        using var model = ModelPresets.Notebook(data.Train.Shape, data.Train.NumClasses, config.Variant, config.BnMomentum);
        using var summary = new StringWriter();
        model.Summary(summary);
        output.Write(summary.ToString());

        model.Compile(new Adam(config.LearningRate));
        var history = model.Fit(data.Train, batchSize: config.BatchSize, epochs: config.Epochs, verbose: 1,
            validationData: data.Test, callbacks: callbacks, output: output, cancellationToken: cancellationToken);

        var evaluation = model.Evaluate(data.Test, batchSize: Math.Max(config.BatchSize, 256));
        output.WriteLine(RunFolder.Describe(evaluation));

        var record = new RunRecord
        {
            Config = config,
            Dataset = DatasetSelector.Name(data.Kind),
            DataLocation = data.Location,
            DatasetReason = data.Reason,
            InputShape = [data.Train.Shape.Height, data.Train.Shape.Width, data.Train.Shape.Channels],
            Classes = data.Train.NumClasses,
            TrainSamples = data.Train.Count,
            TestSamples = data.Test.Count,
            Runtime = runtime,
            Version = Version,
            Machine = MachineInfo.Describe(),
            StartedUtc = started,
        };
        model.SaveWeights(folder.File(RunFolder.WeightsFile));
        folder.WriteJson(RunFolder.ConfigFile, record);
        folder.WriteHistory(history);
        folder.WriteText("summary.txt", summary.ToString());
        folder.WriteJson("evaluation.json", evaluation);
        folder.Commit();
        output.WriteLine($"Run folder: {folder.Target}");
        return new RunResult(folder.Target, history, evaluation, record);
    }

    /// <summary>Loads the model of a run folder (or its model.pt) and evaluates it on that run's test data.</summary>
    /// <param name="modelPath">A run folder or the <c>model.pt</c> inside one.</param>
    /// <param name="dataDir">Overrides the data location recorded in the run.</param>
    /// <param name="output">Where the result goes.</param>
    public static EvaluationResult Evaluate(string modelPath, string? dataDir, TextWriter output)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(output);
        string folder = Directory.Exists(modelPath) ? modelPath : Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".";
        string weights = Directory.Exists(modelPath) ? Path.Combine(modelPath, RunFolder.WeightsFile) : modelPath;
        var record = RunFolder.ReadRecord(folder);
        TorchRuntime.Initialize(record.Config.Threads);
        var config = record.Config with
        {
            Dataset = DatasetSelector.Parse(record.Dataset),
            DataDir = dataDir ?? record.DataLocation ?? record.Config.DataDir,
            TrainLimit = 1,
        };
        var data = DatasetSelector.Load(config);
        output.WriteLine(data.Reason);
        var shape = new Data.ImageShape(record.InputShape[0], record.InputShape[1], record.InputShape[2]);
        using var model = ModelPresets.Notebook(shape, record.Classes, config.Variant, config.BnMomentum);
        model.LoadWeights(weights);
        var result = model.Evaluate(data.Test, batchSize: 1024);
        output.WriteLine(RunFolder.Describe(result));
        return result;
    }

    /// <summary>The library's informational version.</summary>
    public static string Version =>
        typeof(NotebookExperiment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
