using CifarBatchNorm.IO;
using CifarBatchNorm.Interop.Codecs;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// The model's state dict as <c>.safetensors</c> under the names of the equivalent PyTorch <c>nn.Sequential</c>
/// (<see cref="PyTorchEquivalent"/>): <c>0.weight</c> (out, in, kh, kw), <c>2.running_var</c>, ... Flatten is (C, H, W) in
/// both, so no array is permuted. The metadata holds the Python source of that module under <c>pytorch_module</c>,
/// and the model's Keras 3 config under <c>keras_config</c>, so the file alone rebuilds the model.
/// </summary>
internal static class SafetensorsWeights
{
    /// <summary>Metadata key of the Python source of the equivalent module.</summary>
    public const string ModuleKey = "pytorch_module";

    /// <summary>Metadata key of the model's Keras 3 config (<see cref="KerasConfig"/>), from which the file alone rebuilds the model.</summary>
    public const string ConfigKey = "keras_config";

    /// <summary>Writes the state dict (through a temporary file).</summary>
    public static void Save(Sequential model, string path)
    {
        var state = ModelState.Read(model);
        var longs = model.state_dict().Where(kv => kv.Value.dtype == TorchSharp.torch.ScalarType.Int64)
            .ToDictionary(kv => kv.Key, kv => kv.Value.item<long>(), StringComparer.Ordinal);
        var tensors = new List<SafetensorsTensor>();
        foreach (var (layer, index) in PyTorchEquivalent.ModuleIndices(model).OrderBy(kv => kv.Value))
        {
            foreach (var variable in LayerCodecs.Variables(layer).Where(v => v.PyTorchName is not null))
            {
                var array = state[$"{layer.Name}.{variable.StateSuffix}"];
                tensors.Add(SafetensorsTensor.Float32($"{index}.{variable.PyTorchName}", array.Shape, array.Data));
            }

            if (LayerCodecs.For(layer).TracksBatches)
            {
                // PyTorch's BatchNorm keeps this counter in its state dict; strict load_state_dict wants it.
                long tracked = longs.GetValueOrDefault($"{layer.Name}.bn.num_batches_tracked");
                tensors.Add(SafetensorsTensor.Int64Scalar($"{index}.num_batches_tracked", tracked));
            }
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            [ModuleKey] = PyTorchEquivalent.Source(model),
            [ConfigKey] = KerasConfig.Serialize(model).ToJsonString(),
        };
        AtomicFile.Write(path, temp =>
        {
            using var stream = File.Create(temp);
            SafetensorsFile.Write(stream, tensors, metadata);
        });
    }

    /// <summary>Loads a file written by <see cref="Save"/> (or by PyTorch for the equivalent module); nothing changes unless all of it matches.</summary>
    public static void Load(Sequential model, string path)
    {
        string source = Path.GetFullPath(path);
        var file = SafetensorsFile.Read(path);
        var state = ModelState.Shapes(model);
        var values = new Dictionary<string, WeightArray>(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (layer, index) in PyTorchEquivalent.ModuleIndices(model).OrderBy(kv => kv.Value))
        {
            foreach (var variable in LayerCodecs.Variables(layer).Where(v => v.PyTorchName is not null))
            {
                string name = $"{index}.{variable.PyTorchName}";
                string key = $"{layer.Name}.{variable.StateSuffix}";
                if (!file.TryGetValue(name, out var tensor))
                {
                    throw new ModelFileException($"{source} has no '{name}' for layer '{layer.Name}' ({layer.KerasType}); it is from another architecture.");
                }

                long[] expected = state[key];
                if (tensor.DType != "F32" || !tensor.Shape.SequenceEqual(expected))
                {
                    throw new ModelFileException(
                        $"{source} does not match the model at layer '{layer.Name}' ({layer.KerasType}): '{name}' expected F32 {WeightArray.FormatShape(expected)}, found {tensor.DType} {WeightArray.FormatShape(tensor.Shape)}. It is from another architecture.");
                }

                values[key] = new WeightArray(key, tensor.Shape, tensor.ToFloats());
                used.Add(name);
            }

            if (LayerCodecs.For(layer).TracksBatches)
            {
                used.Add($"{index}.num_batches_tracked");
            }
        }

        string? extra = file.Keys.Where(k => !used.Contains(k)).Order(StringComparer.Ordinal).FirstOrDefault();
        if (extra is not null)
        {
            throw new ModelFileException($"{source} has '{extra}', which the model's PyTorch equivalent does not have; it is from another architecture.");
        }

        ModelState.Write(model, values, source);
    }

    /// <summary>Builds the model a file written by <see cref="Save"/> describes and loads its weights; <c>null</c> when the metadata has no config.</summary>
    public static Sequential? LoadModel(string path)
    {
        if (SafetensorsFile.ReadMetadata(path).GetValueOrDefault(ConfigKey) is not string text)
        {
            return null;
        }

        string source = Path.GetFullPath(path);
        System.Text.Json.Nodes.JsonObject config;
        try
        {
            config = System.Text.Json.Nodes.JsonNode.Parse(text) as System.Text.Json.Nodes.JsonObject
                ?? throw new ModelFileException($"{source}: its {ConfigKey} metadata is not a JSON object.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ModelFileException($"{source}: its {ConfigKey} metadata is not valid JSON ({e.Message.Split('\n')[0]}).", e);
        }

        var model = KerasConfig.Deserialize(config, $"{source} ({ConfigKey})");
        try
        {
            Load(model, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The Python source stored in a file's metadata, or <c>null</c>.</summary>
    internal static string? ModuleSource(string path) => SafetensorsFile.ReadMetadata(path).GetValueOrDefault(ModuleKey);
}
