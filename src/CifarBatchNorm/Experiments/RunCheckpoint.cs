using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Saves everything needed to continue a run after every epoch: weights and BN statistics, optimizer state, the
/// global RNG state (which drives the next epoch's shuffle), the epoch counter and the history so far. The files
/// go to a temporary folder that then replaces <c>checkpoint/</c>, so the checkpoint on disk is always one
/// consistent epoch. A run resumed from epoch k reproduces the uninterrupted run's weights and history.
/// </summary>
internal sealed class RunCheckpoint : Callback
{
    /// <summary>Name of the checkpoint folder inside a run folder.</summary>
    public const string FolderName = "checkpoint";

    private readonly RunFolder _folder;

    /// <summary>Creates the callback.</summary>
    /// <param name="folder">The run folder.</param>
    /// <param name="history">History so far (empty for a new run); every finished epoch is appended to it.</param>
    public RunCheckpoint(RunFolder folder, History history)
    {
        _folder = folder ?? throw new ArgumentNullException(nameof(folder));
        History = history ?? throw new ArgumentNullException(nameof(history));
    }

    /// <summary>The full history: restored epochs and those trained since.</summary>
    public History History { get; }

    /// <summary>The last epoch whose checkpoint is on disk, or 0.</summary>
    public int LastEpoch => History.Epochs.Count > 0 ? History.Epochs[^1] : 0;

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var model = Model ?? throw new InvalidOperationException("RunCheckpoint is not attached to a model.");
        History.Append(epoch, new Dictionary<string, double>(logs, StringComparer.Ordinal));
        string final = _folder.File(FolderName);
        string temp = $"{final}.tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temp);
        try
        {
            model.save(Path.Combine(temp, "weights.pt"));
            using (var writer = new BinaryWriter(File.Create(Path.Combine(temp, "optimizer.bin"))))
            {
                model.Optimizer!.SaveState(writer);
            }

            using (var rng = get_rng_state())
            {
                rng.Save(Path.Combine(temp, "rng.bin"));
            }

            File.WriteAllText(Path.Combine(temp, "history.json"), System.Text.Json.JsonSerializer.Serialize(History.ToColumns(), RunFolder.Json));
            string old = $"{final}.old-{Guid.NewGuid():N}";
            if (Directory.Exists(final))
            {
                Directory.Move(final, old);
            }

            Directory.Move(temp, final);
            if (Directory.Exists(old))
            {
                Directory.Delete(old, recursive: true);
            }
        }
        finally
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }
        }

        _folder.WriteStatus(new RunStatus(RunState.Running, epoch, $"epoch {epoch} checkpointed"));
    }

    /// <summary>
    /// Restores a run folder's checkpoint into a freshly built, compiled model and returns the history so far
    /// (empty when no epoch finished before the run stopped).
    /// </summary>
    /// <exception cref="ModelFileException">The checkpoint is damaged or from another architecture.</exception>
    public static History Restore(RunFolder folder, Sequential model)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(model);
        string dir = folder.File(FolderName);
        if (!Directory.Exists(dir))
        {
            return new History();
        }

        try
        {
            model.LoadWeights(Path.Combine(dir, "weights.pt"));
            using (var reader = new BinaryReader(File.OpenRead(Path.Combine(dir, "optimizer.bin"))))
            {
                (model.Optimizer ?? throw new InvalidOperationException("Compile the model before restoring a checkpoint.")).LoadState(reader);
            }

            using (var reader = new BinaryReader(File.OpenRead(Path.Combine(dir, "rng.bin"))))
            using (var rng = TensorExtensionMethods.Load(reader))
            {
                set_rng_state(rng);
            }

            var columns = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, double[]>>(
                File.ReadAllText(Path.Combine(dir, "history.json")), RunFolder.Json) ?? [];
            return History.FromColumns(columns.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<double>)kv.Value));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new ModelFileException($"{dir} is damaged ({e.Message.Split('\n')[0]}); it cannot be resumed.", e);
        }
    }
}
