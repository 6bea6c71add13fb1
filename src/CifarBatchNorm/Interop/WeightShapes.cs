using System.Globalization;
using CifarBatchNorm.Training;
using PureHDF;

namespace CifarBatchNorm.Interop;

/// <summary>
/// The (input, output) channels of the convolution and dense kernels in a bare weights file, in layer order, read
/// without building a model: what an architecture preset needs to size itself (image channels, classes, the size of
/// the flattened features). Convolution kernels are the rank-4 arrays, dense kernels the rank-2 ones.
/// </summary>
internal sealed record WeightShapes(IReadOnlyList<(int In, int Out)> Convolutions, IReadOnlyList<(int In, int Out)> Dense)
{
    /// <summary>Reads the kernel shapes of a tf.keras 2 <c>.h5</c>, a Keras 3 <c>.weights.h5</c> or a <c>.safetensors</c> file.</summary>
    /// <exception cref="ModelFileException">Another format, or a file that cannot be read.</exception>
    public static WeightShapes Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string source = Path.GetFullPath(path);
        var kernels = ModelFiles.FormatOf(path) switch
        {
            ModelFileFormat.Keras2Weights => ReadHdf5(path, source, Keras2Kernels),
            ModelFileFormat.Keras3Weights => ReadHdf5(path, source, Keras3Kernels),
            ModelFileFormat.Safetensors => SafetensorsKernels(path),
            _ => throw new ModelFileException($"{source}: the kernel shapes are read from .h5, .weights.h5 and .safetensors files only."),
        };
        return new WeightShapes(
            kernels.Where(k => k.Length == 4).Select(k => ((int)k[2], (int)k[3])).ToList(),
            kernels.Where(k => k.Length == 2).Select(k => ((int)k[0], (int)k[1])).ToList());
    }

    private static List<long[]> ReadHdf5(string path, string source, Func<IH5Group, List<long[]>> read)
    {
        using var stream = File.OpenRead(path);
        return Hdf5Reading.Read(stream, source, read);
    }

    /// <summary>tf.keras 2: the layers in <c>layer_names</c> order, each layer's <c>kernel:0</c> (HWIO or (in, out)).</summary>
    private static List<long[]> Keras2Kernels(IH5Group root)
    {
        var group = root.LinkExists("model_weights") ? root.Group("model_weights") : root;
        var result = new List<long[]>();
        foreach (string layer in Hdf5Reading.ReadStrings(group, "layer_names"))
        {
            var layerGroup = group.Group(layer);
            foreach (string weight in Hdf5Reading.ReadStrings(layerGroup, "weight_names").Where(w => w.EndsWith("kernel:0", StringComparison.Ordinal)))
            {
                result.Add(Dimensions(layerGroup.Dataset(weight)));
            }
        }

        return result;
    }

    /// <summary>Keras 3: <c>layers/&lt;name&gt;/vars/0</c>, the layers ordered by name and number (<c>dense</c>, <c>dense_1</c>, ..., <c>dense_10</c>).</summary>
    private static List<long[]> Keras3Kernels(IH5Group root)
    {
        string groupName = root.LinkExists("layers") ? "layers" : "_layer_checkpoint_dependencies";
        if (!root.LinkExists(groupName))
        {
            return [];
        }

        var group = root.Group(groupName);
        return group.Children().Select(c => c.Name)
            .Where(n => group.Group(n).LinkExists("vars") && group.Group(n).Group("vars").LinkExists("0"))
            .OrderBy(n => n.TrimEnd("0123456789".ToCharArray()).TrimEnd('_'), StringComparer.Ordinal)
            .ThenBy(Number)
            .Select(n => Dimensions(group.Group(n).Group("vars").Dataset("0")))
            .ToList();
    }

    private static int Number(string name)
    {
        int underscore = name.LastIndexOf('_');
        return underscore >= 0 && int.TryParse(name[(underscore + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;
    }

    /// <summary>PyTorch's names: <c>&lt;index&gt;.weight</c> in index order, (out, in, kh, kw) and (out, in) turned to Keras's order.</summary>
    private static List<long[]> SafetensorsKernels(string path) =>
        SafetensorsFile.Read(path)
            .Where(kv => kv.Key.EndsWith(".weight", StringComparison.Ordinal) && kv.Value.Shape.Length is 4 or 2
                && int.TryParse(kv.Key[..kv.Key.IndexOf('.', StringComparison.Ordinal)], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .OrderBy(kv => int.Parse(kv.Key[..kv.Key.IndexOf('.', StringComparison.Ordinal)], CultureInfo.InvariantCulture))
            .Select(kv => kv.Value.Shape.Length == 4
                ? new[] { kv.Value.Shape[2], kv.Value.Shape[3], kv.Value.Shape[1], kv.Value.Shape[0] }
                : new[] { kv.Value.Shape[1], kv.Value.Shape[0] })
            .ToList();

    private static long[] Dimensions(IH5Dataset dataset) => dataset.Space.Dimensions.Select(d => (long)d).ToArray();
}
