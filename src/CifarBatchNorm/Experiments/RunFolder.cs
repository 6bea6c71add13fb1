using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CifarBatchNorm.IO;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// A run's output folder: <c>config.json</c> and <c>status.json</c> from the start, a <c>checkpoint/</c> after every
/// epoch, and at the end <c>model.pt</c>, <c>history.json</c>, <c>history.csv</c>, <c>summary.txt</c>,
/// <c>evaluation.json</c>. Every file is written to a temporary name and renamed, so none is ever half-written.
/// </summary>
internal sealed class RunFolder
{
    /// <summary>File name of the final weights.</summary>
    public const string WeightsFile = "model.pt";

    /// <summary>File name of the run record.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>File name of the final evaluation (<see cref="RunEvaluation"/>).</summary>
    public const string EvaluationFile = "evaluation.json";

    /// <summary>File name of the run status.</summary>
    public const string StatusFile = "status.json";

    /// <summary>
    /// JSON options used for every file of a run folder: snake_case names, NaN and infinities written as the strings
    /// <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c> (a diverged run is a result), and text such as <c>+</c> unescaped.
    /// </summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        // Files for people to read: "+" and non-ASCII text as they are, not \u002B. Never embedded in HTML unescaped.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>Name of the lock file a running process holds in its run folder.</summary>
    public const string LockFile = ".lock";

    private FileStream? _lock;
    private FolderLock? _folderLock;

    private RunFolder(string path, bool createdHere = false)
    {
        Path = path;
        CreatedHere = createdHere;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>Whether this process created the folder (only then may it delete it).</summary>
    public bool CreatedHere { get; }

    /// <summary>
    /// Creates a new, empty run folder and locks it for this process (see <see cref="AcquireLock"/>). A folder that
    /// exists and is empty is used (and is never deleted by <see cref="Discard"/>).
    /// </summary>
    /// <exception cref="IOException">The path is a file, already holds something, is in use, or cannot be written.</exception>
    public static RunFolder Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string target = System.IO.Path.GetFullPath(path);
        if (System.IO.File.Exists(target))
        {
            throw new IOException($"The run folder {target} is a file; give a folder path for the run.");
        }

        bool existed = Directory.Exists(target);
        if (existed && Directory.EnumerateFileSystemEntries(target).Any(e => System.IO.Path.GetFileName(e) != LockFile))
        {
            throw new IOException($"The run folder {target} already exists and is not empty; choose a new folder so no earlier run is overwritten.");
        }

        try
        {
            Directory.CreateDirectory(target);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"The run folder {target} cannot be written ({e.Message}); choose a writable folder.", e);
        }

        var folder = new RunFolder(target, createdHere: !existed);
        folder.AcquireLock();
        if (Directory.EnumerateFileSystemEntries(target).Any(e => System.IO.Path.GetFileName(e) != LockFile))
        {
            folder.ReleaseLock(); // another process filled it between our checks
            throw new IOException($"The run folder {target} already exists and is not empty; choose a new folder so no earlier run is overwritten.");
        }

        return folder;
    }

    /// <summary>
    /// Takes an exclusive lock on the folder for the life of this process's run (a <c>flock</c> on the folder's own
    /// handle, <see cref="FolderLock"/>, and a lock file held open without sharing, which .NET maps to <c>flock</c> too and
    /// which names the holder's pid): a second process that runs or resumes the same folder gets one line and
    /// stops, instead of silently overwriting the first one's files. The lock goes with the process, however it ends.
    /// </summary>
    /// <exception cref="IOException">Another process holds the folder, or it cannot be written.</exception>
    public void AcquireLock()
    {
        if (_lock is not null)
        {
            return;
        }

        string path = File(LockFile);
        try
        {
            // The folder itself is locked first: deleting the lock file cannot let a second writer in.
            _folderLock = FolderLock.TryAcquire(Path)
                ?? throw new IOException($"The run folder {Path} is in use by another running process; wait for it to finish or choose another folder.");
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            ReleaseLock();
            throw new IOException($"The run folder {Path} is in use by another running process; wait for it to finish or choose another folder.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            ReleaseLock();
            throw new IOException($"The run folder {Path} cannot be written ({e.Message}); choose a writable folder.", e);
        }

        _lock.SetLength(0);
        byte[] pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
        _lock.Write(pid);
        _lock.Flush();
    }

    /// <summary>Releases the lock (the process's exit does it too).</summary>
    public void ReleaseLock()
    {
        _lock?.Dispose();
        _lock = null;
        _folderLock?.Dispose();
        _folderLock = null;
    }

    /// <summary>
    /// Removes what this run wrote after a failure before anything worth keeping: the whole folder when this process
    /// created it, else only its contents (a folder the user made, the working directory or a mount point stays).
    /// </summary>
    public void Discard()
    {
        ReleaseLock();
        if (CreatedHere)
        {
            Directory.Delete(Path, recursive: true);
            return;
        }

        foreach (string entry in Directory.EnumerateFileSystemEntries(Path))
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                System.IO.File.Delete(entry);
            }
        }
    }

    /// <summary>A folder inside this one (created when missing), for the parts of a sweep; it has no lock of its own.</summary>
    internal RunFolder Child(string name)
    {
        string path = File(name);
        Directory.CreateDirectory(path);
        return new RunFolder(path);
    }

    /// <summary>Opens a folder that exists, whatever it holds (a comparison's folder, which has no run record).</summary>
    internal static RunFolder OpenExisting(string path) =>
        Directory.Exists(path) ? new RunFolder(System.IO.Path.GetFullPath(path)) : throw new ModelFileException($"{System.IO.Path.GetFullPath(path)} not found: pass the folder of an interrupted comparison.");

    /// <summary>Opens the folder of an earlier run (to resume or evaluate it).</summary>
    /// <exception cref="ModelFileException">The folder holds no config.json.</exception>
    public static RunFolder Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        if (!System.IO.File.Exists(System.IO.Path.Combine(full, ConfigFile)))
        {
            throw new ModelFileException($"{System.IO.Path.Combine(full, ConfigFile)} not found: pass a run folder written by a training run.");
        }

        return new RunFolder(full);
    }

    /// <summary>Path of a file in the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a text file atomically.</summary>
    public void WriteText(string name, string text) => AtomicFile.WriteAllText(File(name), text);

    /// <summary>Writes a value as JSON atomically.</summary>
    public void WriteJson<T>(string name, T value) => WriteText(name, JsonSerializer.Serialize(value, Json) + "\n");

    /// <summary>Reads a JSON file of the folder.</summary>
    /// <exception cref="ModelFileException">The file is missing or not valid JSON for <typeparamref name="T"/>.</exception>
    public T ReadJson<T>(string name)
    {
        string path = File(name);
        try
        {
            return JsonSerializer.Deserialize<T>(System.IO.File.ReadAllText(path), Json)
                ?? throw new ModelFileException($"{path} is empty.");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new ModelFileException($"{path} cannot be read ({e.Message.Split('\n')[0]}); the run folder is damaged.", e);
        }
    }

    /// <summary>Writes <c>status.json</c>.</summary>
    public void WriteStatus(RunStatus status) => WriteJson(StatusFile, status);

    /// <summary>Writes <c>history.json</c> and <c>history.csv</c>.</summary>
    public void WriteHistory(History history)
    {
        ArgumentNullException.ThrowIfNull(history);
        WriteJson("history.json", history.ToColumns());
        WriteText("history.csv", history.ToCsv());
    }

    /// <summary>Reads the record of a run folder.</summary>
    /// <exception cref="ModelFileException">The folder has no readable config.json.</exception>
    public static RunRecord ReadRecord(string folder) => Open(folder).ReadJson<RunRecord>(ConfigFile);

    /// <summary>A number for text output, invariant culture.</summary>
    internal static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>One-line summary of an evaluation.</summary>
    internal static string Describe(EvaluationResult result) =>
        new StringBuilder().Append("Test loss: ").Append(Format(result.Loss))
            .Append(" - test accuracy: ").Append(Format(result.Accuracy))
            .Append(" (").Append(result.Samples.ToString("N0", CultureInfo.InvariantCulture)).Append(" images)").ToString();
}
