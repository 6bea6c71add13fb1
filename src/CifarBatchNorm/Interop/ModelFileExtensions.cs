using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// The Keras-named file methods of <see cref="Sequential"/> (<c>model.SaveWeights(path)</c>, <c>model.LoadWeights(path)</c>,
/// <c>model.Save(path)</c>, <c>model.ExportOnnx(path)</c>), kept here so that the model knows no file format of another
/// tool: <see cref="ModelFiles"/> picks the format by the extension.
/// </summary>
public static class ModelFileExtensions
{
    /// <summary>Saves the weights and BN statistics to a temporary file, then renames it into place; the extension picks the format (see <see cref="ModelFiles"/>).</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">A <c>.pt</c>, <c>.weights.h5</c>, <c>.safetensors</c>, <c>.keras</c> or <c>.onnx</c> path.</param>
    /// <exception cref="ModelFileException">The extension names a read-only or unknown format.</exception>
    public static void SaveWeights(this Sequential model, string path) => ModelFiles.SaveWeights(model, path);

    /// <summary>Loads weights from <c>.pt</c>, <c>.weights.h5</c>, <c>.h5</c>, <c>.safetensors</c> or <c>.keras</c> for the same architecture; a file that does not match leaves the model unchanged.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The weights file.</param>
    /// <exception cref="ModelFileException">The file is missing, corrupted or from another architecture.</exception>
    public static void LoadWeights(this Sequential model, string path) => ModelFiles.LoadWeights(model, path);

    /// <summary>Saves the model as a Keras 3 <c>.keras</c> archive (see <see cref="ModelFiles.Save"/>).</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">A path ending in <c>.keras</c>.</param>
    /// <param name="classNames">Class names recorded in the archive's metadata; <c>null</c> (the default) records none.</param>
    public static void Save(this Sequential model, string path, IReadOnlyList<string>? classNames = null) => ModelFiles.Save(model, path, classNames);

    /// <summary>Exports the model for inference as ONNX (see <see cref="OnnxExporter.Export"/>).</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">A path ending in <c>.onnx</c>.</param>
    public static void ExportOnnx(this Sequential model, string path) => OnnxExporter.Export(model, path);
}
