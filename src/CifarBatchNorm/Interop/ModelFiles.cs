using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// Chooses a model file's format by its extension: <c>.pt</c> TorchSharp, <c>.weights.h5</c> Keras 3 weights,
/// <c>.h5</c> tf.keras 2 weights (read only), <c>.safetensors</c> PyTorch-named state dict, <c>.keras</c> a Keras 3
/// archive (architecture and weights), <c>.onnx</c> an ONNX export (write only).
/// </summary>
public static class ModelFiles
{
    /// <summary>The extensions <see cref="LoadWeights"/> accepts.</summary>
    public const string WeightExtensions = ".pt, .weights.h5, .h5, .safetensors, .keras";

    /// <summary>The format a path names, by extension.</summary>
    /// <exception cref="ModelFileException">The extension is none of the known ones.</exception>
    public static ModelFileFormat FormatOf(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string name = Path.GetFileName(path).ToLowerInvariant();
        return name switch
        {
            _ when name.EndsWith(".weights.h5", StringComparison.Ordinal) => ModelFileFormat.Keras3Weights,
            _ when name.EndsWith(".h5", StringComparison.Ordinal) || name.EndsWith(".hdf5", StringComparison.Ordinal) => ModelFileFormat.Keras2Weights,
            _ when name.EndsWith(".pt", StringComparison.Ordinal) => ModelFileFormat.TorchSharp,
            _ when name.EndsWith(".safetensors", StringComparison.Ordinal) => ModelFileFormat.Safetensors,
            _ when name.EndsWith(".keras", StringComparison.Ordinal) => ModelFileFormat.KerasArchive,
            _ when name.EndsWith(".onnx", StringComparison.Ordinal) => ModelFileFormat.Onnx,
            _ => throw new ModelFileException($"{path}: unknown model file extension; use one of {WeightExtensions}, or .onnx for an export."),
        };
    }

    /// <summary>Loads weights into <paramref name="model"/> from any supported file; the model is unchanged if the file does not match it.</summary>
    /// <exception cref="ModelFileException">The file is missing, damaged, of an unknown format or from another architecture.</exception>
    public static void LoadWeights(Sequential model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var format = FormatOf(path);
        if (format != ModelFileFormat.Onnx)
        {
            ModelFileGuard.Check(path, ModelFileGuard.MaxBytesFor(model));
        }

        switch (format)
        {
            case ModelFileFormat.TorchSharp:
                TorchSharpWeightsFile.Load(model, path);
                break;
            case ModelFileFormat.Keras3Weights:
                Keras3WeightsFile.Load(model, path);
                break;
            case ModelFileFormat.Keras2Weights:
                Keras2WeightsFile.Load(model, path);
                break;
            case ModelFileFormat.Safetensors:
                SafetensorsWeights.Load(model, path);
                break;
            case ModelFileFormat.KerasArchive:
                KerasArchive.LoadWeights(model, path);
                break;
            default:
                throw new ModelFileException($"{path}: an ONNX file cannot be loaded back; load the weights it was exported from ({WeightExtensions}).");
        }
    }

    /// <summary>Saves <paramref name="model"/>'s weights in the format the extension names, through a temporary file.</summary>
    /// <exception cref="ModelFileException">The extension names a read-only format.</exception>
    public static void SaveWeights(Sequential model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var format = FormatOf(path);
        CreateFolder(path);
        switch (format)
        {
            case ModelFileFormat.TorchSharp:
                TorchSharpWeightsFile.Save(model, path);
                break;
            case ModelFileFormat.Keras3Weights:
                Keras3WeightsFile.Save(model, path);
                break;
            case ModelFileFormat.Safetensors:
                SafetensorsWeights.Save(model, path);
                break;
            case ModelFileFormat.KerasArchive:
                KerasArchive.Save(model, path);
                break;
            case ModelFileFormat.Onnx:
                OnnxExporter.Export(model, path);
                break;
            default:
                throw new ModelFileException($"{path}: tf.keras 2 .h5 files are read only; save as .weights.h5 (Keras 3), which Keras 3 loads with model.load_weights.");
        }
    }

    /// <summary>Builds a model from a Keras 3 <c>.keras</c> archive (config and weights).</summary>
    /// <exception cref="ModelFileException">The file is not such an archive, or uses a layer or argument this library does not have.</exception>
    public static Sequential Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (FormatOf(path) != ModelFileFormat.KerasArchive)
        {
            throw new ModelFileException($"{path}: only a .keras archive holds the architecture; for {WeightExtensions} weights build the model and call LoadWeights.");
        }

        ModelFileGuard.Check(path, ModelFileGuard.MaxFileBytes);
        return KerasArchive.Load(path);
    }

    /// <summary>Saves <paramref name="model"/> as a Keras 3 <c>.keras</c> archive that Keras's <c>keras.saving.load_model</c> reads.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">A path ending in <c>.keras</c>.</param>
    /// <param name="classNames">Class names recorded in the archive's metadata; <c>null</c> records none.</param>
    public static void Save(Sequential model, string path, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (FormatOf(path) != ModelFileFormat.KerasArchive)
        {
            throw new ModelFileException($"{path}: a whole model is saved as .keras; use SaveWeights for {WeightExtensions}.");
        }

        CreateFolder(path);
        KerasArchive.Save(model, path, classNames);
    }

    private static void CreateFolder(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }
    }
}
