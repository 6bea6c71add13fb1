using System.Text.Json;
using System.Text.Json.Nodes;
using CifarBatchNorm.Interop.Codecs;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// A Sequential model's <c>config.json</c> in Keras 3's form (keras/src/saving/serialization_lib.py
/// <c>serialize_keras_object</c>: <c>module</c>, <c>class_name</c>, <c>config</c>, <c>registered_name</c>,
/// <c>build_config</c>; keras/src/models/sequential.py <c>get_config</c>: an InputLayer then the layers), and back.
/// Reading accepts the layer types of this library; an unknown layer, argument or unsupported value is one error
/// naming it.
/// </summary>
internal static class KerasConfig
{
    /// <summary>The model's config as Keras 3 writes it.</summary>
    public static JsonObject Serialize(Sequential model)
    {
        JsonArray batchShape = BatchShape(model.InputShape);
        var layers = new JsonArray
        {
            new JsonObject
            {
                ["module"] = "keras.layers",
                ["class_name"] = "InputLayer",
                ["config"] = new JsonObject
                {
                    ["batch_shape"] = batchShape.DeepClone(),
                    ["dtype"] = "float32",
                    ["sparse"] = false,
                    ["name"] = "input_layer",
                },
                ["registered_name"] = null,
            },
        };
        foreach (var layer in model.Layers)
        {
            layers.Add(new JsonObject
            {
                ["module"] = "keras.layers",
                ["class_name"] = LayerCodecs.KerasClassName(layer),
                ["config"] = LayerConfig(layer),
                ["registered_name"] = null,
                ["build_config"] = new JsonObject { ["input_shape"] = BatchShape(layer.InputShape) },
            });
        }

        return new JsonObject
        {
            ["module"] = "keras",
            ["class_name"] = "Sequential",
            ["config"] = new JsonObject
            {
                ["name"] = model.ModelName,
                ["trainable"] = true,
                ["dtype"] = DTypePolicy(),
                ["layers"] = layers,
                ["build_input_shape"] = batchShape.DeepClone(),
            },
            ["registered_name"] = null,
            ["build_config"] = new JsonObject { ["input_shape"] = batchShape.DeepClone() },
            ["compile_config"] = null,
        };
    }

    private static JsonObject LayerConfig(Layer layer)
    {
        var config = new JsonObject { ["name"] = layer.Name, ["trainable"] = true, ["dtype"] = DTypePolicy() };
        LayerCodecs.For(layer).WriteKerasConfig(layer, config);
        return config;
    }

    /// <summary>The initializer, regularizer and constraint arguments Keras writes for a layer with a kernel and a bias.</summary>
    internal static void AddInitializersAndNulls(JsonObject config, string kernel, string bias, bool activityRegularizer)
    {
        config[$"{kernel}_initializer"] = Initializer("GlorotUniform", new JsonObject { ["seed"] = null });
        config[$"{bias}_initializer"] = Initializer("Zeros");
        config[$"{kernel}_regularizer"] = null;
        config[$"{bias}_regularizer"] = null;
        if (activityRegularizer)
        {
            config["activity_regularizer"] = null;
        }

        config[$"{kernel}_constraint"] = null;
        config[$"{bias}_constraint"] = null;
    }

    /// <summary>A Keras initializer object of class <paramref name="className"/>.</summary>
    internal static JsonObject Initializer(string className, JsonObject? config = null) => new()
    {
        ["module"] = "keras.initializers",
        ["class_name"] = className,
        ["config"] = config ?? new JsonObject(),
        ["registered_name"] = null,
    };

    private static JsonObject DTypePolicy() => new()
    {
        ["module"] = "keras",
        ["class_name"] = "DTypePolicy",
        ["config"] = new JsonObject { ["name"] = "float32" },
        ["registered_name"] = null,
    };

    /// <summary>Keras's pair for a square size or stride.</summary>
    internal static JsonArray Pair(int value) => [value, value];

    /// <summary>Keras's string for an enum value: <c>HorizontalAndVertical</c> is <c>horizontal_and_vertical</c>.</summary>
    internal static string Snake<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>Reads an enum argument written in Keras's snake case; <paramref name="defaultValue"/> when absent.</summary>
    internal static T FromSnake<T>(ConfigArguments args, string key, T defaultValue) where T : struct, Enum
    {
        string? text = args.Take(key)?.GetValue<string>();
        if (text is null)
        {
            return defaultValue;
        }

        foreach (var value in Enum.GetValues<T>())
        {
            if (Snake(value) == text)
            {
                return value;
            }
        }

        throw args.Unsupported(key, text);
    }

    /// <summary>Reads a Keras factor: a (lower, upper) pair, or one number meaning (-x, x).</summary>
    internal static (double Lower, double Upper) Factor(ConfigArguments args, string key) => args.Take(key) switch
    {
        JsonArray { Count: 2 } pair => (pair[0]!.GetValue<double>(), pair[1]!.GetValue<double>()),
        JsonValue single => (-Math.Abs(single.GetValue<double>()), Math.Abs(single.GetValue<double>())),
        var other => throw args.Unsupported(key, other?.ToJsonString()),
    };

    /// <summary>Takes the arguments every Keras preprocessing layer has (data format, seed, value range).</summary>
    internal static void AugmentationArguments(ConfigArguments args)
    {
        args.Expect("data_format", null, "channels_last");
        args.Take("seed");
        args.Take("value_range");
    }

    private static JsonArray BatchShape(LayerShape shape) => new([null, .. shape.Dims.Select(d => (JsonNode?)JsonValue.Create(d))]);

    /// <summary>Builds the model a Keras 3 <c>config.json</c> describes.</summary>
    /// <exception cref="ModelFileException">Not a Sequential, or a layer, argument or value this library does not support.</exception>
    public static Sequential Deserialize(JsonObject root, string source)
    {
        string className = root["class_name"]?.GetValue<string>() ?? "(none)";
        if (className != "Sequential" || root["config"] is not JsonObject config || config["layers"] is not JsonArray layers)
        {
            throw new ModelFileException($"{source}: the model is a {className}; only Sequential models can be loaded.");
        }

        var layerConfigs = layers.OfType<JsonObject>().ToList();
        LayerShape? inputShape = null;
        if (layerConfigs.Count > 0 && layerConfigs[0]["class_name"]?.GetValue<string>() == "InputLayer")
        {
            var inputConfig = layerConfigs[0]["config"] as JsonObject;
            inputShape = ShapeOf(inputConfig?["batch_shape"] ?? inputConfig?["batch_input_shape"], source);
            layerConfigs.RemoveAt(0);
        }

        inputShape ??= ShapeOf(config["build_input_shape"] ?? (root["build_config"] as JsonObject)?["input_shape"], source)
            ?? throw new ModelFileException($"{source}: the config has no input shape (no InputLayer, no build_input_shape).");
        KerasConfigLimits.CheckInput(inputShape, source);
        KerasConfigLimits.CheckLayerCount(layerConfigs.Count, source);
        var model = new Sequential(inputShape, config["name"]?.GetValue<string>() ?? "sequential");
        try
        {
            long parameters = 0;
            foreach (var layerConfig in layerConfigs)
            {
                var layer = CreateLayer(layerConfig, source);
                try
                {
                    parameters = KerasConfigLimits.AddParameters(layer, model.OutputShape, parameters, source);
                }
                catch
                {
                    layer.Dispose();
                    throw;
                }

                model.Add(layer);
            }

            return model;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            model.Dispose();
            throw new ModelFileException($"{source}: the config describes a model this library cannot build ({e.Message}).", e);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static LayerShape? ShapeOf(JsonNode? node, string source)
    {
        if (node is not JsonArray dims || dims.Count < 2)
        {
            return null;
        }

        try
        {
            return new LayerShape(dims.Skip(1).Select(d => d!.GetValue<int>()).ToArray());
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new ModelFileException($"{source}: input shape {node.ToJsonString()} needs fixed positive sizes after the batch dimension.", e);
        }
    }

    private static Layer CreateLayer(JsonObject layerConfig, string source)
    {
        string className = layerConfig["class_name"]?.GetValue<string>() ?? "(none)";
        var config = layerConfig["config"] as JsonObject ?? [];
        string name = config["name"]?.GetValue<string>() ?? className;
        var args = new ConfigArguments(config, source, $"layer '{name}' ({className})");
        args.Take("name");
        args.Take("trainable");
        args.Take("activity_regularizer", mustBeNull: true);
        string? dtype = args.Take("dtype") switch
        {
            null => null,
            JsonValue v => v.GetValue<string>(),
            JsonObject o => (o["config"] as JsonObject)?["name"]?.GetValue<string>(),
            _ => "?",
        };
        if (dtype is not (null or "float32"))
        {
            throw args.Unsupported("dtype", dtype);
        }

        var codec = LayerCodecs.ForKerasClass(className) ?? throw new ModelFileException(
            $"{source}: layer '{name}' is a {className}, which this library does not have (it has {string.Join(", ", LayerCodecs.KerasClasses)}).");
        var layer = codec.ReadKerasConfig(args, name);
        args.CheckAllUsed();
        return layer;
    }

    /// <summary>Takes the initializer arguments (any) and the regularizer and constraint arguments (which must be null) of a layer with a kernel and a bias.</summary>
    internal static void IgnoreInitializersAndCheckNulls(ConfigArguments args)
    {
        args.Take("kernel_initializer");
        args.Take("bias_initializer");
        foreach (string key in new[] { "kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint" })
        {
            args.Take(key, mustBeNull: true);
        }
    }
}
