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
/// Each folder holds <c>manifest.json</c>, the SHA-256 of every file in it, checked before a resume reads anything:
/// a damaged file is an error naming it, never a silently different run. A pointer that names a missing folder (or
/// is missing or damaged itself) falls back to the newest complete checkpoint folder, and then nothing is deleted.
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
    private const string ManifestFile = "manifest.json";
    private const string WeightsFile = "weights.pt";

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
            WriteManifest(temp);
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
        model.save(Path.Combine(dir, WeightsFile));
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

    /// <summary>The folder the pointer names, or the folder of earlier versions, or the newest complete one, or <c>null</c>.</summary>
    private static string? CurrentFolder(RunFolder folder) => Resolve(folder).Folder;

    /// <summary>
    /// The checkpoint to resume from, and whether the pointer named it. When the pointer is missing, damaged or names
    /// a folder that is not there, the newest complete <c>checkpoint-NNNNNN</c> folder is taken instead.
    /// </summary>
    private static (string? Folder, bool FromPointer) Resolve(RunFolder folder)
    {
        if (File.Exists(folder.File(PointerFile)))
        {
            try
            {
                string named = folder.File(folder.ReadJson<Pointer>(PointerFile).Folder);
                if (IsComplete(named))
                {
                    return (named, true);
                }
            }
            catch (ModelFileException)
            {
                // a damaged pointer: look for the newest complete folder below
            }
        }

        if (Directory.Exists(folder.File(LegacyFolderName)))
        {
            return (folder.File(LegacyFolderName), true);
        }

        string? newest = Directory.EnumerateDirectories(folder.Path, FolderPrefix + "*")
            .Where(d => !Path.GetFileName(d).Contains('.', StringComparison.Ordinal) && IsComplete(d))
            .OrderByDescending(d => Path.GetFileName(d), StringComparer.Ordinal)
            .FirstOrDefault();
        return (newest, false);
    }

    /// <summary>Whether <paramref name="dir"/> holds every file its manifest lists (or, before manifests, the weights).</summary>
    private static bool IsComplete(string dir)
    {
        if (!Directory.Exists(dir))
        {
            return false;
        }

        string manifest = Path.Combine(dir, ManifestFile);
        if (!File.Exists(manifest))
        {
            return File.Exists(Path.Combine(dir, WeightsFile));
        }

        try
        {
            var sums = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(manifest), RunFolder.Json);
            return sums is not null && sums.Keys.All(name => File.Exists(Path.Combine(dir, name)));
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return false;
        }
    }

    /// <summary>Writes <c>manifest.json</c>: the SHA-256 of every file of the checkpoint folder.</summary>
    private static void WriteManifest(string dir)
    {
        var sums = Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileName(f), Sha256, StringComparer.Ordinal);
        File.WriteAllText(Path.Combine(dir, ManifestFile), JsonSerializer.Serialize(sums, RunFolder.Json));
    }

    /// <summary>Throws unless every file the manifest lists has its recorded SHA-256 (a folder of earlier versions has no manifest).</summary>
    /// <exception cref="ModelFileException">A file is missing or differs from what was written.</exception>
    private static void Verify(string dir)
    {
        string manifest = Path.Combine(dir, ManifestFile);
        if (!File.Exists(manifest))
        {
            return;
        }

        Dictionary<string, string> sums;
        try
        {
            sums = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(manifest), RunFolder.Json) ?? [];
        }
        catch (JsonException e)
        {
            throw new ModelFileException($"{manifest} is damaged ({e.Message.Split('\n')[0]}); the checkpoint cannot be checked, so it is not resumed.", e);
        }

        foreach (var (name, expected) in sums)
        {
            string file = Path.Combine(dir, name);
            if (!File.Exists(file))
            {
                throw new ModelFileException($"{file} is missing from the checkpoint; it cannot be resumed.");
            }

            if (!string.Equals(Sha256(file), expected, StringComparison.Ordinal))
            {
                throw new ModelFileException(
                    $"{file} differs from the checkpoint's manifest (SHA-256); the file is damaged, so the run is not resumed from it. Restore the file, or start a new run.");
            }
        }
    }

    private static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>
    /// Removes what an interrupted run left behind: temporary files and folders (<c>*.tmp-*</c>), swap folders of
    /// earlier versions (<c>*.old-*</c>), and checkpoint folders the pointer does not name.
    /// </summary>
    public static void CleanLeftovers(RunFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var (current, fromPointer) = Resolve(folder);
        foreach (string entry in Directory.EnumerateFileSystemEntries(folder.Path))
        {
            string name = Path.GetFileName(entry);
            // Other checkpoint folders go only when the pointer is sound: after a fallback, nothing that may be needed is deleted.
            bool leftover = name.Contains(".tmp-", StringComparison.Ordinal) || name.Contains(".old-", StringComparison.Ordinal)
                || (fromPointer && name.StartsWith(FolderPrefix, StringComparison.Ordinal) && entry != current);
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
            RequireNoEpochDone(folder);
            return (new History(), new Dictionary<string, CallbackState>());
        }

        Verify(dir);
        try
        {
            model.LoadWeights(Path.Combine(dir, WeightsFile));
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

    /// <summary>
    /// Loads the weights of the run's last checkpoint into <paramref name="model"/> (to evaluate or use an interrupted
    /// run, which has no final weights file); returns the checkpoint's epoch, or <c>null</c> when the folder holds none.
    /// </summary>
    /// <exception cref="ModelFileException">The checkpoint is damaged or from another architecture.</exception>
    internal static int? LoadLastWeights(RunFolder folder, Sequential model)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(model);
        if (CurrentFolder(folder) is not string dir)
        {
            return null;
        }

        Verify(dir);
        try
        {
            model.LoadWeights(Path.Combine(dir, WeightsFile));
            var columns = JsonSerializer.Deserialize<Dictionary<string, double[]>>(File.ReadAllText(Path.Combine(dir, "history.json")), RunFolder.Json) ?? [];
            var history = History.FromColumns(columns.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<double>)kv.Value));
            return history.Epochs.Count > 0 ? history.Epochs[^1] : 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or ArgumentException)
        {
            throw new ModelFileException($"{dir} is damaged ({e.Message.Split('\n')[0]}); its weights cannot be read.", e);
        }
    }

    /// <summary>With no checkpoint left, a run whose status says epochs are done must not silently start again from epoch 0.</summary>
    private static void RequireNoEpochDone(RunFolder folder)
    {
        if (!File.Exists(folder.File(RunFolder.StatusFile)))
        {
            return;
        }

        var status = folder.ReadJson<RunStatus>(RunFolder.StatusFile);
        if (status.CompletedEpochs > 0)
        {
            throw new ModelFileException(
                $"{folder.Path}: {RunFolder.StatusFile} says {status.CompletedEpochs} epochs are done, but no checkpoint is left ({PointerFile} and its folder are gone), so the run cannot continue where it stopped. Start a new run in another folder.");
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
