using CifarBatchNorm.Training;
using PureHDF;

namespace CifarBatchNorm.Interop;

/// <summary>
/// tf.keras 2's HDF5 weights (<c>model.save("m.h5")</c> and <c>model.save_weights("w.h5")</c>), as
/// tf_keras/src/saving/legacy/hdf5_format.py writes them: the root (or the <c>model_weights</c> group of a full
/// model) lists the layers in the attribute <c>layer_names</c>; each layer's group lists its variables in
/// <c>weight_names</c> (<c>conv2d/kernel:0</c>), stored at <c>&lt;layer&gt;/&lt;weight name&gt;</c>. Read only.
/// Layers are matched in order (the file's names may carry other numbers), variables by name.
/// </summary>
internal static class Keras2WeightsFile
{
    /// <summary>Loads weights from a tf.keras 2 <c>.h5</c> file; nothing changes unless every layer matches.</summary>
    public static void Load(Sequential model, string path)
    {
        string source = Path.GetFullPath(path);
        using var stream = File.OpenRead(path);
        var mapped = KerasWeightMapper.Layers(model);
        long maxElements = ModelFileGuard.MaxDatasetValues(model);
        var fileLayers = Hdf5Reading.Read(stream, source, root =>
        {
            var group = root.LinkExists("model_weights") ? root.Group("model_weights") : root;
            string[] layerNames = Hdf5Reading.ReadStrings(group, "layer_names");
            if (layerNames.Length == 0)
            {
                throw new ModelFileException(
                    $"{source} is HDF5 but has no 'layer_names' attribute, so it is not a tf.keras 2 weights file; a Keras 3 file must end in .weights.h5.");
            }

            var weighted = new List<(string Name, IReadOnlyList<WeightArray> Variables)>();
            foreach (string name in layerNames)
            {
                var layerGroup = group.Group(name);
                string[] weightNames = Hdf5Reading.ReadStrings(layerGroup, "weight_names");
                if (weightNames.Length > 0)
                {
                    weighted.Add((name, weightNames.Select(w => Hdf5Reading.ReadArray(layerGroup.Dataset(w), w, source, maxElements)).ToList()));
                }
            }

            return weighted;
        });

        if (fileLayers.Count > mapped.Count)
        {
            throw new ModelFileException(
                $"{source} has weights for {fileLayers.Count} layers, this model for {mapped.Count}: the file's layer '{fileLayers[mapped.Count].Name}' has no counterpart. It is from another architecture.");
        }

        var aligned = mapped.Select((_, i) => i < fileLayers.Count ? fileLayers[i] : ((string, IReadOnlyList<WeightArray>)?)null).ToList();
        KerasWeightMapper.Import(model, aligned, source, checkNames: true);
    }
}
