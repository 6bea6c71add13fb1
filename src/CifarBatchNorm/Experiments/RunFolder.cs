using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CifarBatchNorm.IO;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// A run's output folder: <c>model.pt</c>, <c>config.json</c>, <c>history.json</c>, <c>history.csv</c>,
/// <c>summary.txt</c>, <c>evaluation.json</c>. Files are written into a hidden staging folder next to the target,
/// which is renamed into place only when the run has finished, so an interrupted run leaves nothing half-written.
/// </summary>
public sealed class RunFolder : IDisposable
{
    /// <summary>File name of the weights.</summary>
    public const string WeightsFile = "model.pt";

    /// <summary>File name of the run record.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>JSON options used for every file of a run folder.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    private bool _committed;

    private RunFolder(string target, string staging)
    {
        Target = target;
        Staging = staging;
    }

    /// <summary>The final folder.</summary>
    public string Target { get; }

    /// <summary>The staging folder files are written to until <see cref="Commit"/>.</summary>
    public string Staging { get; }

    /// <summary>Checks that <paramref name="path"/> can take a new run and creates the staging folder.</summary>
    /// <exception cref="IOException">The path is a file, already holds a run, or cannot be written.</exception>
    public static RunFolder Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string target = Path.GetFullPath(path);
        if (System.IO.File.Exists(target))
        {
            throw new IOException($"--output {target} is a file; give a folder path for the run.");
        }

        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new IOException($"--output {target} already exists and is not empty; choose a new folder so no earlier run is overwritten.");
        }

        string parent = Path.GetDirectoryName(target) ?? target;
        string staging = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(staging);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"--output {target} cannot be written ({e.Message}); choose a writable folder.", e);
        }

        return new RunFolder(target, staging);
    }

    /// <summary>Path of a file in the staging folder.</summary>
    public string File(string name) => Path.Combine(Staging, name);

    /// <summary>Writes a text file.</summary>
    public void WriteText(string name, string text) => AtomicFile.WriteAllText(File(name), text);

    /// <summary>Writes a value as JSON.</summary>
    public void WriteJson<T>(string name, T value) => WriteText(name, JsonSerializer.Serialize(value, Json) + "\n");

    /// <summary>Writes <c>history.json</c> and <c>history.csv</c>.</summary>
    public void WriteHistory(History history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var json = new Dictionary<string, object> { ["epoch"] = history.Epochs };
        foreach (var (key, values) in history.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            json[key] = values;
        }

        WriteJson("history.json", json);
        WriteText("history.csv", history.ToCsv());
    }

    /// <summary>Moves the staging folder into place.</summary>
    public void Commit()
    {
        if (Directory.Exists(Target))
        {
            Directory.Delete(Target); // empty, checked in Create
        }

        Directory.Move(Staging, Target);
        _committed = true;
    }

    /// <summary>Removes the staging folder unless committed.</summary>
    public void Dispose()
    {
        if (!_committed && Directory.Exists(Staging))
        {
            Directory.Delete(Staging, recursive: true);
        }
    }

    /// <summary>Reads the record of a finished run folder (or of the folder holding a model.pt).</summary>
    /// <exception cref="ModelFileException">The folder has no readable config.json.</exception>
    public static RunRecord ReadRecord(string folder)
    {
        string path = Path.Combine(folder, ConfigFile);
        if (!System.IO.File.Exists(path))
        {
            throw new ModelFileException($"{path} not found: pass a run folder written by 'cifar-bn train' (or its model.pt).");
        }

        try
        {
            return JsonSerializer.Deserialize<RunRecord>(System.IO.File.ReadAllText(path), Json)
                ?? throw new ModelFileException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new ModelFileException($"{path} is not a valid run config ({e.Message}).", e);
        }
    }

    /// <summary>A number for text reports, invariant culture.</summary>
    internal static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>Markdown-free one-line summary of an evaluation.</summary>
    internal static string Describe(EvaluationResult result) =>
        new StringBuilder().Append("Test loss: ").Append(Format(result.Loss))
            .Append(" - test accuracy: ").Append(Format(result.Accuracy))
            .Append(" (").Append(result.Samples.ToString("N0", CultureInfo.InvariantCulture)).Append(" images)").ToString();
}
