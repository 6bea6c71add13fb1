using System.IO.Compression;
using System.Text.Json.Nodes;
using CifarBatchNorm.IO;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// Keras 3's <c>.keras</c> archive (keras/src/saving/saving_lib.py <c>save_model</c>): a zip holding
/// <c>metadata.json</c>, <c>config.json</c> (the model serialized by serialization_lib.serialize_keras_object) and
/// <c>model.weights.h5</c> (<see cref="Keras3WeightsFile"/>), stored uncompressed in that order as Keras writes them. This
/// library adds <c>class_names</c> to the metadata, and declares the oldest Keras version that accepts the config.
/// </summary>
internal static class KerasArchive
{
    private const string ConfigFile = "config.json";
    private const string MetadataFile = "metadata.json";
    private const string WeightsFile = "model.weights.h5";

    /// <summary>The Keras version whose format the archive follows, written to <c>metadata.json</c> when no layer needs a later one.</summary>
    public const string KerasVersion = "3.8.0";

    /// <summary>The first Keras version whose <c>BatchNormalization</c> takes <c>renorm</c>, <c>renorm_clipping</c> and <c>renorm_momentum</c>.</summary>
    public const string RenormKerasVersion = "3.14.0";

    /// <summary>The oldest Keras version that accepts every layer config of <paramref name="model"/>.</summary>
    public static string DeclaredVersion(Sequential model) =>
        model.Layers.Any(l => l is Layers.BatchRenormalization) ? RenormKerasVersion : KerasVersion;

    /// <summary>Writes the archive through a temporary file.</summary>
    public static void Save(Sequential model, string path, IReadOnlyList<string>? classNames = null)
    {
        var config = KerasConfig.Serialize(model);
        config["compile_config"] = KerasCompileState.CompileConfig(model);
        var metadata = new JsonObject
        {
            ["keras_version"] = DeclaredVersion(model),
            ["date_saved"] = DateTime.Now.ToString("yyyy-MM-dd@HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (classNames is not null)
        {
            metadata["class_names"] = new JsonArray(classNames.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray());
        }

        using var weights = new MemoryStream();
        Keras3WeightsFile.Write(model, weights);
        AtomicFile.Write(path, temp =>
        {
            using var zip = ZipFile.Open(temp, ZipArchiveMode.Create);
            WriteEntry(zip, MetadataFile, System.Text.Encoding.UTF8.GetBytes(metadata.ToJsonString()));
            WriteEntry(zip, ConfigFile, System.Text.Encoding.UTF8.GetBytes(config.ToJsonString()));
            WriteEntry(zip, WeightsFile, weights.ToArray());
        });
    }

    /// <summary>Builds the model from <c>config.json</c> and loads <c>model.weights.h5</c> into it.</summary>
    public static Sequential Load(string path)
    {
        string source = ModelFileGuard.Check(path, ModelFileGuard.MaxFileBytes);
        using var zip = Open(path, source);
        var model = KerasConfig.Deserialize(ReadJson(zip, ConfigFile, source), source);
        try
        {
            LoadWeights(model, zip, source);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads only the archive's weights into an existing model of the same architecture.</summary>
    public static void LoadWeights(Sequential model, string path)
    {
        string source = ModelFileGuard.Check(path, ModelFileGuard.MaxBytesFor(model));
        using var zip = Open(path, source);
        LoadWeights(model, zip, source);
    }

    /// <summary>The class names recorded in the archive's metadata, or <c>null</c>.</summary>
    public static IReadOnlyList<string>? ClassNames(string path)
    {
        string source = ModelFileGuard.Check(path, ModelFileGuard.MaxFileBytes);
        using var zip = Open(path, source);
        return ReadJson(zip, MetadataFile, source)["class_names"] is JsonArray names
            ? names.Select(n => n?.GetValue<string>() ?? string.Empty).ToArray()
            : null;
    }

    private static void LoadWeights(Sequential model, ZipArchive zip, string source)
    {
        var entry = zip.GetEntry(WeightsFile)
            ?? throw new ModelFileException($"{source} has no {WeightsFile}; Keras's npz weights format is not supported, save with the default h5.");
        using var weights = new MemoryStream(ZipMemberGuard.Read(entry, ModelFileGuard.MaxBytesFor(model), source));
        Keras3WeightsFile.Load(model, weights, $"{source} ({WeightsFile})");
    }

    private static ZipArchive Open(string path, string source)
    {
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFileException($"{source} is not a .keras archive (not a zip file: {e.Message.Split('\n')[0]}).", e);
        }
    }

    private static JsonObject ReadJson(ZipArchive zip, string name, string source)
    {
        var entry = zip.GetEntry(name) ?? throw new ModelFileException($"{source} has no {name}, so it is not a Keras 3 .keras archive.");
        try
        {
            return JsonNode.Parse(ZipMemberGuard.Read(entry, ZipMemberGuard.MaxJsonBytes, source)) as JsonObject
                ?? throw new ModelFileException($"{source}: {name} is not a JSON object.");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
        {
            throw new ModelFileException($"{source}: {name} cannot be read ({e.Message.Split('\n')[0]}).", e);
        }
    }

    private static void WriteEntry(ZipArchive zip, string name, byte[] content)
    {
        // Keras opens zipfile.ZipFile(fileobj, "w") with the default compression, ZIP_STORED.
        using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        stream.Write(content);
    }
}
