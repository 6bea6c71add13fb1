using CifarBatchNorm.Data;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// The one door every model file passes before a reader opens it: it must exist, be a regular file (a FIFO would block
/// the open forever, <c>/dev/zero</c> never ends) and be no larger than the weights it can hold. Each refusal is one
/// <see cref="ModelFileException"/> naming the file.
/// </summary>
internal static class ModelFileGuard
{
    /// <summary>Largest model file read when no model bounds it (a <c>.keras</c> archive read for its architecture): 1 GiB.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>Room for a format's own structures (HDF5 headers, zip directories, JSON) beyond the weights' bytes.</summary>
    private const long FormatOverhead = 16L << 20;

    /// <summary>Checks <paramref name="path"/>; returns its full path, for messages.</summary>
    /// <exception cref="ModelFileException">It is missing, not a regular file, or larger than <paramref name="maxBytes"/>.</exception>
    public static string Check(string path, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string source = Path.GetFullPath(path);
        if (DataFile.NotRegularKind(path) is string kind)
        {
            throw new ModelFileException($"{source} is {kind}, not a model file; give a {ModelFiles.WeightExtensions} file.");
        }

        if (!File.Exists(path))
        {
            throw new ModelFileException($"Weights file not found: {source}. Pass the model.pt of a run folder or another {ModelFiles.WeightExtensions} file.");
        }

        long length = new FileInfo(path).Length;
        if (length > maxBytes)
        {
            throw new ModelFileException($"{source}: {length:N0} bytes, more than a model file of this size can be ({maxBytes:N0} bytes); it is not a model file for this model.");
        }

        return source;
    }

    /// <summary>The largest file that can hold <paramref name="model"/>'s weights: each value in float64, plus the format's overhead.</summary>
    public static long MaxBytesFor(Sequential model) => (ValueCount(model) * sizeof(double)) + FormatOverhead;

    /// <summary>
    /// The most values one dataset of a weights file may declare before it is read: all the model's values and a
    /// million more, so a file from another architecture still reaches the check that names its layer.
    /// </summary>
    public static long MaxDatasetValues(Sequential model) => ValueCount(model) + (1L << 20);

    /// <summary>Throws unless there is one class name per output of the model.</summary>
    public static void RequireClassNames(IReadOnlyList<string> names, int outputs, string source)
    {
        if (names.Count != outputs)
        {
            throw new ModelFileException(
                $"{source} records {names.Count} class names for a model with {outputs} outputs; every output needs its name, so the file is damaged.");
        }
    }

    private static long ValueCount(Sequential model) => model.state_dict().Values.Sum(t => t.numel());
}
