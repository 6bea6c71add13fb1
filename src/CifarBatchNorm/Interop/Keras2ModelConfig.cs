using System.Text.Json;
using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using PureHDF;

namespace CifarBatchNorm.Interop;

/// <summary>
/// The architecture in a tf.keras 2 full-model <c>.h5</c> (<c>model.save("m.h5")</c>): the root attribute
/// <c>model_config</c>, which tf_keras/src/saving/legacy/hdf5_format.py <c>save_model_to_hdf5</c> writes as the JSON of
/// <c>{"class_name": "Sequential", "config": {"name", "layers": [...]}}</c> (Keras 2.13 and later add <c>module</c> and
/// <c>registered_name</c> to every nested object). Keras 2's layer configs differ from Keras 3's in three places, which
/// are translated before <see cref="KerasConfig"/> builds the model: the input shape is <c>batch_input_shape</c> (on the
/// InputLayer and on the first layer), a built BatchNormalization records its <c>axis</c> as a positive list
/// (<c>[3]</c> after a convolution, <c>[1]</c> after a Dense), and the configs of Keras 2.0-2.1 are a bare list of layers.
/// An unknown layer or argument is one error naming it.
/// </summary>
internal static class Keras2ModelConfig
{
    /// <summary>The root attribute that holds the model's config in a full-model <c>.h5</c>.</summary>
    public const string Attribute = "model_config";

    /// <summary>Reads the <c>model_config</c> attribute of an HDF5 file; <c>null</c> for a weights-only file (<c>save_weights</c>).</summary>
    /// <exception cref="ModelFileException">The file is not HDF5, or the attribute is not a JSON object.</exception>
    public static JsonObject? Read(string path)
    {
        string source = Path.GetFullPath(path);
        using var stream = File.OpenRead(path);
        string? text = Hdf5Reading.Read(stream, source, ReadText);
        if (text is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text) as JsonObject
                ?? throw new ModelFileException($"{source}: its {Attribute} attribute is not a JSON object, so the architecture cannot be read.");
        }
        catch (JsonException e)
        {
            throw new ModelFileException($"{source}: its {Attribute} attribute is not valid JSON ({e.Message.Split('\n')[0]}).", e);
        }
    }

    /// <summary>
    /// The attribute's text: h5py 3 stores tf.keras's utf-8 bytes as a variable-length string (HDF5 class 9), older
    /// h5py as a fixed-length one.
    /// </summary>
    private static string? ReadText(IH5Group root)
    {
        if (!root.AttributeExists(Attribute))
        {
            return null;
        }

        var attribute = root.Attribute(Attribute);
        if (attribute.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
        {
            return null;
        }

        return attribute.Space.Rank == 0 ? attribute.Read<string>() : attribute.Read<string[]>().FirstOrDefault();
    }

    /// <summary>Builds the model a tf.keras 2 <c>model_config</c> describes (weights are not loaded).</summary>
    /// <exception cref="ModelFileException">Not a Sequential model, or a layer, argument or value this library does not support.</exception>
    public static Sequential Deserialize(JsonObject root, string source)
    {
        ArgumentNullException.ThrowIfNull(root);
        string className = root["class_name"]?.GetValue<string>() ?? "(none)";
        if (className != "Sequential")
        {
            throw new ModelFileException($"{source}: the model is a {className}; only Sequential models can be loaded (rebuild it as keras.Sequential and save again).");
        }

        var (name, layers) = root["config"] switch
        {
            JsonObject config when config["layers"] is JsonArray list => (config["name"]?.GetValue<string>() ?? "sequential", list),
            JsonArray list => ("sequential", list),   // Keras 2.0-2.1: the config is the list of layers
            _ => throw new ModelFileException($"{source}: the {Attribute} has no list of layers."),
        };

        var translated = new JsonArray();
        var positiveAxes = new List<(string Layer, int Axis)?>();
        JsonNode? batchShape = null;
        foreach (var node in layers)
        {
            if (node is not JsonObject layer || layer["config"] is not JsonObject layerConfig)
            {
                throw new ModelFileException($"{source}: the {Attribute} has a layer entry that is not a {{class_name, config}} object.");
            }

            var copy = (JsonObject)layer.DeepClone();
            var config = (JsonObject)copy["config"]!;
            string layerClass = copy["class_name"]?.GetValue<string>() ?? "(none)";
            if (config.Remove("batch_input_shape", out var shape))
            {
                batchShape ??= shape;
            }

            if (layerClass == "InputLayer")
            {
                continue;
            }

            positiveAxes.Add(layerClass == "BatchNormalization" ? TranslateAxis(config, source) : null);
            translated.Add(copy);
        }

        if (batchShape is null)
        {
            throw new ModelFileException($"{source}: the {Attribute} has no batch_input_shape (neither an InputLayer nor a first layer with an input shape), so the model's input is unknown.");
        }

        translated.Insert(0, new JsonObject
        {
            ["class_name"] = "InputLayer",
            ["config"] = new JsonObject { ["batch_shape"] = batchShape.DeepClone() },
        });
        var keras3 = new JsonObject
        {
            ["class_name"] = "Sequential",
            ["config"] = new JsonObject { ["name"] = name, ["layers"] = translated },
        };
        var model = KerasConfig.Deserialize(keras3, source);
        for (int i = 0; i < model.Layers.Count; i++)
        {
            // Keras 2 stores the axis it normalized over, counted with the batch: channels-last is the last one.
            if (positiveAxes[i] is { } entry && entry.Axis != model.Layers[i].InputShape.Rank)
            {
                var (layerName, axis) = entry;
                model.Dispose();
                throw new ModelFileException(
                    $"{source}: layer '{layerName}' (BatchNormalization) has axis = [{axis}] on a {model.Layers[i].InputShape.Rank + 1}-D input, which this library does not support (it normalizes the last axis, channels_last).");
            }
        }

        return model;
    }

    /// <summary>Replaces Keras 2's <c>[k]</c> axis by <c>-1</c> and returns <c>k</c> for the check after building.</summary>
    private static (string Layer, int Axis)? TranslateAxis(JsonObject config, string source)
    {
        string name = config["name"]?.GetValue<string>() ?? "batch_normalization";
        var axis = config["axis"];
        int? value = axis switch
        {
            JsonArray { Count: 1 } one when one[0] is JsonValue v && v.TryGetValue(out int a) => a,
            JsonValue v when v.TryGetValue(out int a) => a,
            null => -1,
            _ => null,
        };
        if (value is null)
        {
            throw new ModelFileException($"{source}: layer '{name}' (BatchNormalization) has axis = {axis!.ToJsonString()}, which this library does not support (it normalizes one axis, the last).");
        }

        if (value < -1)
        {
            throw new ModelFileException($"{source}: layer '{name}' (BatchNormalization) has axis = {value}, which this library does not support (it normalizes the last axis).");
        }

        config["axis"] = -1;
        return value == -1 ? null : (name, value.Value);
    }
}
