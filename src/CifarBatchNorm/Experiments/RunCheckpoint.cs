using System.Globalization;
using System.Text.Json;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.IO;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Saves everything needed to continue a run after every epoch: weights and BN statistics, optimizer state, the
/// global RNG state (which drives the next epoch's shuffle), the epoch counter, the history so far, and the state of
/// every other callback of the run (taken after they acted on the epoch). A run resumed from epoch k reproduces the
/// uninterrupted run's weights and history.
/// </summary>
/// <remarks>
/// Each epoch goes to a new folder <c>checkpoint-NNNNNN</c>, written under a temporary name, flushed to the disk and
/// renamed; then the pointer file <c>checkpoint.json</c> is replaced atomically (flushed too), and only then is the
/// previous folder deleted. A kill or a power cut at any instant leaves a pointer to a complete folder (or no pointer
/// before the first epoch); what the interrupted step left behind is removed by <see cref="CleanLeftovers"/> on resume.
/// </remarks>
internal sealed class RunCheckpoint : Callback
{
    /// <summary>Name of the pointer file inside a run folder.</summary>
    public const string PointerFile = "checkpoint.json";

    /// <summary>Name of the checkpoint folder of earlier versions (read on resume).</summary>
    public const string LegacyFolderName = "checkpoint";

    private const string FolderPrefix = "checkpoint-";
    private const string StatesFile = "callbacks.json";
    private const string StateTensorsFile = "callbacks.bin";

    private readonly RunFolder _folder;
    private readonly IReadOnlyList<Callback> _tracked;
    private readonly IReadOnlyDictionary<string, CallbackState>? _restored;

    /// <summary>Creates the callback; put it last in the run's callbacks, so it saves what the others did in the epoch.</summary>
    /// <param name="folder">The run folder.</param>
    /// <param name="history">History so far (empty for a new run); every finished epoch is appended to it.</param>
    /// <param name="tracked">The run's other callbacks, whose state is saved with each checkpoint.</param>
    /// <param name="restored">States from the checkpoint being resumed, given back to <paramref name="tracked"/> when training begins.</param>
    public RunCheckpoint(RunFolder folder, History history, IReadOnlyList<Callback>? tracked = null, IReadOnlyDictionary<string, CallbackState>? restored = null)
    {
        _folder = folder ?? throw new ArgumentNullException(nameof(folder));
        History = history ?? throw new ArgumentNullException(nameof(history));
        _tracked = tracked ?? [];
        _restored = restored;
    }

    /// <summary>The full history: restored epochs and those trained since.</summary>
    public History History { get; }

    /// <summary>The last epoch whose checkpoint is on disk, or 0.</summary>
    public int LastEpoch => History.Epochs.Count > 0 ? History.Epochs[^1] : 0;

    /// <summary>Whether <paramref name="folder"/> holds a checkpoint to resume from.</summary>
    public static bool Exists(RunFolder folder) =>
        File.Exists(folder.File(PointerFile)) || Directory.Exists(folder.File(LegacyFolderName));

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        if (_restored is null)
        {
            return;
        }

        for (int i = 0; i < _tracked.Count; i++)
        {
            if (_restored.TryGetValue(Key(i, _tracked[i]), out var state))
            {
                _tracked[i].LoadState(state);
            }
        }
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var model = Model ?? throw new InvalidOperationException("RunCheckpoint is not attached to a model.");
        History.Append(epoch, new Dictionary<string, double>(logs, StringComparer.Ordinal));
        string name = FolderPrefix + epoch.ToString("D6", CultureInfo.InvariantCulture);
        string final = _folder.File(name);
        string temp = $"{final}.tmp-{Guid.NewGuid():N}";
        string? previous = CurrentFolder(_folder);
        Directory.CreateDirectory(temp);
        try
        {
            WriteContents(temp, model);
            Durable.FlushTree(temp);
            if (Directory.Exists(final))
            {
                Directory.Delete(final, recursive: true); // a folder of this epoch from a run that was killed and resumed
            }

            Directory.Move(temp, final);
            Durable.FlushDirectory(_folder.Path);
            _folder.WriteJson(PointerFile, new Pointer(name, epoch));
            if (previous is not null && previous != final && Directory.Exists(previous))
            {
                Directory.Delete(previous, recursive: true);
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

    private void WriteContents(string dir, Sequential model)
    {
        model.save(Path.Combine(dir, "weights.pt"));
        using (var writer = new BinaryWriter(File.Create(Path.Combine(dir, "optimizer.bin"))))
        {
            model.Optimizer!.SaveState(writer);
        }

        using (var rng = get_rng_state())
        {
            rng.Save(Path.Combine(dir, "rng.bin"));
        }

        File.WriteAllText(Path.Combine(dir, "history.json"), JsonSerializer.Serialize(History.ToColumns(), RunFolder.Json));
        var states = new Dictionary<string, CallbackState>(StringComparer.Ordinal);
        for (int i = 0; i < _tracked.Count; i++)
        {
            var state = new CallbackState();
            _tracked[i].SaveState(state);
            states[Key(i, _tracked[i])] = state;
        }

        File.WriteAllText(Path.Combine(dir, StatesFile), JsonSerializer.Serialize(
            states.ToDictionary(kv => kv.Key, kv => kv.Value.Values), RunFolder.Json));
        using var tensors = new BinaryWriter(File.Create(Path.Combine(dir, StateTensorsFile)));
        var all = states.SelectMany(s => s.Value.Tensors.Select(t => (Name: $"{s.Key}:{t.Key}", Tensor: t.Value))).ToList();
        tensors.Write(all.Count);
        foreach (var (tensorName, tensor) in all)
        {
            tensors.Write(tensorName);
            tensor.Save(tensors);
            tensor.Dispose();
        }
    }

    /// <summary>A callback's key in the checkpoint: its position and type, so a resumed run with the same options matches.</summary>
    private static string Key(int index, Callback callback) => $"{index}-{callback.GetType().Name}";

    /// <summary>The folder the pointer names, or the folder of earlier versions, or <c>null</c>.</summary>
    private static string? CurrentFolder(RunFolder folder)
    {
        if (File.Exists(folder.File(PointerFile)))
        {
            return folder.File(folder.ReadJson<Pointer>(PointerFile).Folder);
        }

        return Directory.Exists(folder.File(LegacyFolderName)) ? folder.File(LegacyFolderName) : null;
    }

    /// <summary>
    /// Removes what an interrupted run left behind: temporary files and folders (<c>*.tmp-*</c>), swap folders of
    /// earlier versions (<c>*.old-*</c>), and checkpoint folders the pointer does not name.
    /// </summary>
    public static void CleanLeftovers(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string? current = CurrentFolder(folder);
        foreach (string entry in Directory.EnumerateFileSystemEntries(folder.Path))
        {
            string name = Path.GetFileName(entry);
            bool leftover = name.Contains(".tmp-", StringComparison.Ordinal) || name.Contains(".old-", StringComparison.Ordinal)
                || (name.StartsWith(FolderPrefix, StringComparison.Ordinal) && entry != current);
            if (!leftover)
            {
                continue;
            }

            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
    }

    /// <summary>Removes the checkpoint of a finished run (the pointer and its folder), which only a resume needs.</summary>
    public static void Remove(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (CurrentFolder(folder) is string current && Directory.Exists(current))
        {
            Directory.Delete(current, recursive: true);
        }

        File.Delete(folder.File(PointerFile));
        CleanLeftovers(folder);
    }

    /// <summary>
    /// Restores a run folder's checkpoint into a freshly built, compiled model; returns the history so far (empty when
    /// no epoch finished before the run stopped) and the saved states of the run's callbacks.
    /// </summary>
    /// <exception cref="ModelFileException">The checkpoint is damaged or from another architecture.</exception>
    public static (History History, IReadOnlyDictionary<string, CallbackState> States) Restore(RunFolder folder, Sequential model)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(model);
        string? dir = CurrentFolder(folder);
        if (dir is null)
        {
            return (new History(), new Dictionary<string, CallbackState>());
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

            var columns = JsonSerializer.Deserialize<Dictionary<string, double[]>>(File.ReadAllText(Path.Combine(dir, "history.json")), RunFolder.Json) ?? [];
            var history = History.FromColumns(columns.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<double>)kv.Value));
            return (history, ReadStates(dir));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or ArgumentException)
        {
            throw new ModelFileException($"{dir} is damaged ({e.Message.Split('\n')[0]}); it cannot be resumed.", e);
        }
    }

    private static Dictionary<string, CallbackState> ReadStates(string dir)
    {
        var states = new Dictionary<string, CallbackState>(StringComparer.Ordinal);
        string valuesFile = Path.Combine(dir, StatesFile);
        if (!File.Exists(valuesFile))
        {
            return states; // a checkpoint of an earlier version: no callback state was kept
        }

        var values = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, double>>>(File.ReadAllText(valuesFile), RunFolder.Json) ?? [];
        foreach (var (key, numbers) in values)
        {
            var state = new CallbackState();
            foreach (var (name, value) in numbers)
            {
                state.Values[name] = value;
            }

            states[key] = state;
        }

        using var reader = new BinaryReader(File.OpenRead(Path.Combine(dir, StateTensorsFile)));
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            int colon = name.IndexOf(':', StringComparison.Ordinal);
            var tensor = TensorExtensionMethods.Load(reader).DetachFromDisposeScope();
            states[name[..colon]].Tensors[name[(colon + 1)..]] = tensor;
        }

        return states;
    }

    /// <summary>The pointer file: which folder holds the newest complete checkpoint.</summary>
    private sealed record Pointer(string Folder, int Epoch);
}
