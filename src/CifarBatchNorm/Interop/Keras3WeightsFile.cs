using CifarBatchNorm.IO;
using CifarBatchNorm.Training;
using PureHDF;

namespace CifarBatchNorm.Interop;

/// <summary>
/// Keras 3's <c>.weights.h5</c> (<c>model.save_weights</c>, and <c>model.weights.h5</c> inside a <c>.keras</c> archive),
/// as keras/src/saving/saving_lib.py's H5IOStore writes it: each layer of a Sequential under
/// <c>layers/&lt;snake-case class name, numbered per class&gt;/vars/&lt;i&gt;</c>, variables numbered in creation order;
/// layers without variables have no group.
/// </summary>
internal static class Keras3WeightsFile
{
    /// <summary>Writes the model's weights to <paramref name="path"/> (through a temporary file).</summary>
    public static void Save(Sequential model, string path) =>
        AtomicFile.Write(path, temp =>
        {
            using var stream = File.Create(temp);
            Write(model, stream);
        });

    /// <summary>Writes the model's weights as HDF5 to a readable, writable, seekable stream.</summary>
    public static void Write(Sequential model, Stream stream)
    {
        var layers = new H5Group();
        foreach (var (mapped, variables) in KerasWeightMapper.Export(model))
        {
            var vars = new H5Group();
            for (int i = 0; i < variables.Count; i++)
            {
                vars[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] =
                    new H5Dataset(variables[i].Data, fileDims: variables[i].Shape.Select(d => (ulong)d).ToArray());
            }

            layers[mapped.KerasPath] = new H5Group { ["vars"] = vars };
        }

        var file = new H5File { ["layers"] = layers };
        if (KerasCompileState.Variables(model) is { } optimizerVariables)
        {
            // A compiled model's optimizer, as Keras's _save_state walks it: optimizer/vars/<i>.
            var vars = new H5Group();
            for (int i = 0; i < optimizerVariables.Count; i++)
            {
                var (shape, data) = optimizerVariables[i];
                vars[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = shape.Length == 0
                    ? new H5Dataset(data)
                    : new H5Dataset(data, fileDims: shape.Select(d => (ulong)d).ToArray());
            }

            file["optimizer"] = new H5Group { ["vars"] = vars };
        }

        try
        {
            file.Write(stream);
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is IOException or UnauthorizedAccessException)
        {
            // PureHDF writes through reflection: a full disk arrives wrapped; pass on the I/O error itself.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>Loads weights from a Keras 3 <c>.weights.h5</c> file; nothing changes unless every layer matches.</summary>
    public static void Load(Sequential model, string path)
    {
        using var stream = File.OpenRead(path);
        Load(model, stream, Path.GetFullPath(path));
    }

    /// <summary>Loads weights from a Keras 3 weights stream (seekable).</summary>
    public static void Load(Sequential model, Stream stream, string source)
    {
        var mapped = KerasWeightMapper.Layers(model);
        long maxElements = ModelFileGuard.MaxDatasetValues(model);
        var found = Hdf5Reading.Read(stream, source, root =>
        {
            // Keras 2.13 wrote the same layout under _layer_checkpoint_dependencies (H5IOStore.get's fallback).
            string groupName = root.LinkExists("layers") ? "layers" : "_layer_checkpoint_dependencies";
            if (!root.LinkExists(groupName))
            {
                throw new ModelFileException(
                    $"{source} is HDF5 but has no 'layers' group, so it is not a Keras 3 .weights.h5 file; a tf.keras 2 weights file must end in .h5 without '.weights'.");
            }

            var group = root.Group(groupName);
            var result = new List<(string, IReadOnlyList<WeightArray>)?>();
            foreach (var layer in mapped)
            {
                result.Add(group.LinkExists(layer.KerasPath) && group.Group(layer.KerasPath).LinkExists("vars")
                    ? (layer.KerasPath, ReadVars(group.Group(layer.KerasPath).Group("vars"), source, maxElements))
                    : null);
            }

            var expected = mapped.Select(m => m.KerasPath).ToHashSet(StringComparer.Ordinal);
            string? extra = group.Children().Select(c => c.Name)
                .Where(n => !expected.Contains(n) && group.Group(n).LinkExists("vars") && group.Group(n).Group("vars").Children().Any())
                .Order(StringComparer.Ordinal).FirstOrDefault();
            return (result, extra);
        });

        if (found.extra is not null)
        {
            throw new ModelFileException($"{source} has weights for a layer '{found.extra}' that this model does not have; it is from another architecture.");
        }

        KerasWeightMapper.Import(model, found.result, source, checkNames: false);
    }

    private static List<WeightArray> ReadVars(IH5Group vars, string source, long maxElements)
    {
        var result = new List<WeightArray>();
        for (int i = 0; vars.LinkExists(i.ToString(System.Globalization.CultureInfo.InvariantCulture)); i++)
        {
            string name = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            result.Add(Hdf5Reading.ReadArray(vars.Dataset(name), name, source, maxElements));
        }

        return result;
    }
}
