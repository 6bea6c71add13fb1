using CifarBatchNorm.Data;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// A trained model with its class names, opened from a <c>.keras</c> archive (which needs nothing else), from a
/// run folder / any weights file next to a run's <c>config.json</c> (which gives the architecture and dataset), or from
/// a file without a run folder (<see cref="StandaloneModel"/>: a tf.keras 2 full-model <c>.h5</c>, an exported
/// <c>.safetensors</c>, or bare weights with a named architecture).
/// </summary>
public sealed class TrainedModel : IDisposable
{
    private TrainedModel(Sequential model, IReadOnlyList<string> classNames, RunRecord? record, int? checkpointEpoch = null)
    {
        Model = model;
        ClassNames = classNames;
        Record = record;
        CheckpointEpoch = checkpointEpoch;
    }

    /// <summary>The model, in inference mode.</summary>
    public Sequential Model { get; }

    /// <summary>Class names in class-index order (<c>class_0</c>, ... when the file records none).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The run's record when the model came from a run folder; <c>null</c> for a bare <c>.keras</c>.</summary>
    public RunRecord? Record { get; }

    /// <summary>
    /// The epoch of the checkpoint whose weights were loaded when the run folder has no final weights file (the run
    /// was interrupted); <c>null</c> when the final weights were loaded.
    /// </summary>
    internal int? CheckpointEpoch { get; }

    /// <summary>
    /// The line that says the weights came from the last checkpoint of an interrupted run, e.g. with
    /// <paramref name="doing"/> = <c>evaluating</c>; <c>null</c> when the final weights were loaded.
    /// </summary>
    internal string? CheckpointNote(string doing) => CheckpointEpoch is int epoch
        ? $"{RunFolder.WeightsFile} not found (the run was interrupted); {doing} the weights of its last checkpoint, epoch {epoch}."
        : null;

    /// <summary>Opens <paramref name="path"/>: a run folder, a weights file inside one, a <c>.keras</c> archive, or a model file from elsewhere.</summary>
    /// <param name="session">The session the model runs in: its execution policy (device, layouts) is applied.</param>
    /// <param name="path">The folder or file.</param>
    /// <param name="architecture">For bare weights outside a run folder: one of <see cref="StandaloneModel.Architectures"/>. The default value is <c>null</c>.</param>
    /// <exception cref="ModelFileException">The file is missing, damaged, an ONNX export, or bare weights with no run config beside them and no architecture.</exception>
    public static TrainedModel Open(RunSession session, string path, string? architecture = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!Directory.Exists(path) && !File.Exists(path))
        {
            throw new ModelFileException($"{path} not found: give a run folder, a weights file inside one, or a .keras archive.");
        }

        if (Directory.Exists(path) && !File.Exists(Path.Combine(path, RunFolder.ConfigFile)))
        {
            throw new ModelFileException($"{Path.GetFullPath(path)} is not a run folder (it has no {RunFolder.ConfigFile}): give the folder of a training run, a weights file inside one, or a .keras archive.");
        }

        string weights = Directory.Exists(path) ? Path.Combine(path, RunFolder.WeightsFile) : path;
        string folder = Path.GetDirectoryName(Path.GetFullPath(weights)) ?? ".";
        bool hasRecord = File.Exists(Path.Combine(folder, RunFolder.ConfigFile));
        if (!hasRecord && Path.GetFileName(folder).StartsWith(RunCheckpoint.LegacyFolderName, StringComparison.Ordinal)
            && Path.GetDirectoryName(folder) is string above && File.Exists(Path.Combine(above, RunFolder.ConfigFile)))
        {
            folder = above;   // the weights of a checkpoint folder (checkpoint-NNNNNN/weights.pt) belong to the run above it
            hasRecord = true;
        }
        if (ModelFiles.FormatOf(weights) == ModelFileFormat.Onnx)
        {
            throw new ModelFileException(StandaloneModel.OnnxMessage(Path.GetFullPath(weights)));
        }

        if (ModelFiles.FormatOf(weights) == ModelFileFormat.KerasArchive)
        {
            if (!File.Exists(weights))
            {
                throw new ModelFileException($"Model file not found: {Path.GetFullPath(weights)}.");
            }

            var record = hasRecord ? RunFolder.ReadRecord(folder) : null;
            var model = ModelFiles.Load(weights).Apply(session.Policy);
            var names = KerasArchive.ClassNames(weights) ?? (record is null ? null : ClassNamesOf(record));
            if (names is not null)
            {
                try
                {
                    ModelFileGuard.RequireClassNames(names, model.OutputShape.Features, Path.GetFullPath(weights));
                }
                catch
                {
                    model.Dispose();
                    throw;
                }
            }

            return new TrainedModel(model, names ?? Generic(model.OutputShape.Features), record);
        }

        if (!hasRecord)
        {
            var standalone = StandaloneModel.Open(weights, architecture).Apply(session.Policy);
            return new TrainedModel(standalone, Generic(standalone.OutputShape.Features), null);
        }

        var run = RunFolder.ReadRecord(folder);
        var shape = new ImageShape(run.InputShape[0], run.InputShape[1], run.InputShape[2]);
        var built = ModelPresets.Notebook(session, shape, run.Classes, run.Config.Variant, run.Config.BnMomentum, run.Config.Augment);
        int? checkpointEpoch = null;
        try
        {
            // An interrupted run has no model.pt: its last checkpoint holds the weights of its last finished epoch.
            bool interrupted = !File.Exists(weights) && Path.GetFileName(weights) == RunFolder.WeightsFile
                && RunCheckpoint.Exists(RunFolder.Open(folder));
            if (interrupted && RunCheckpoint.LoadLastWeights(RunFolder.Open(folder), built) is int epoch)
            {
                checkpointEpoch = epoch;
            }
            else
            {
                built.LoadWeights(weights);
            }
        }
        catch
        {
            built.Dispose();
            throw;
        }

        return new TrainedModel(built, ClassNamesOf(run), run, checkpointEpoch);
    }

    /// <summary>The class names of a run's dataset.</summary>
    public static IReadOnlyList<string> ClassNamesOf(RunRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return DatasetSelector.Parse(record.Dataset) switch
        {
            DatasetKind.Cifar10 when record.Classes == 10 => Cifar10.ClassNames,
            DatasetKind.FashionMnist when record.Classes == 10 => FashionMnist.ClassNames,
            _ => Generic(record.Classes),
        };
    }

    private static string[] Generic(int classes) => Enumerable.Range(0, classes).Select(i => $"class_{i}").ToArray();

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}
