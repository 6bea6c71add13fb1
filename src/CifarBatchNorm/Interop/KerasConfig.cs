using System.Text.Json;
using System.Text.Json.Nodes;
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
    private static readonly string[] Known = ["Conv2D", "BatchNormalization", "MaxPooling2D", "Flatten", "Dense", "Dropout", "Activation", "RandomFlip", "RandomTranslation", "RandomCrop"];

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
                ["class_name"] = WeightMappingTable.KerasClassName(layer),
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
        switch (layer)
        {
            case Conv2D conv:
                config["filters"] = conv.Filters;
                config["kernel_size"] = Pair(conv.KernelSize);
                config["strides"] = Pair(conv.Strides);
                config["padding"] = conv.Padding == ConvPadding.Same ? "same" : "valid";
                config["data_format"] = "channels_last";
                config["dilation_rate"] = Pair(1);
                config["groups"] = 1;
                config["activation"] = Activations.Name(conv.Activation);
                config["use_bias"] = conv.UseBias;
                AddInitializersAndNulls(config, "kernel", "bias", activityRegularizer: true);
                break;
            case Dense dense:
                config["units"] = dense.Units;
                config["activation"] = Activations.Name(dense.Activation);
                config["use_bias"] = dense.UseBias;
                AddInitializersAndNulls(config, "kernel", "bias", activityRegularizer: false);
                break;
            case BatchNormalization bn:
                AddBatchNorm(config, bn.Momentum, bn.Epsilon, renorm: null);
                break;
            case BatchRenormalization renorm:
                AddBatchNorm(config, renorm.Momentum, renorm.Epsilon, renorm);
                break;
            case MaxPooling2D pool:
                config["pool_size"] = Pair(pool.PoolSize);
                config["padding"] = pool.Padding == ConvPadding.Same ? "same" : "valid";
                config["strides"] = Pair(pool.Strides);
                config["data_format"] = "channels_last";
                break;
            case Flatten:
                config["data_format"] = "channels_last";
                break;
            case Activation activation:
                config["activation"] = Activations.Name(activation.Function);
                break;
            case Dropout dropout:
                config["rate"] = dropout.Rate;
                config["seed"] = null;
                config["noise_shape"] = null;
                break;
            case RandomFlip flip:
                config["mode"] = Snake(flip.Mode);
                config["seed"] = null;
                config["data_format"] = "channels_last";
                break;
            case RandomTranslation translation:
                config["height_factor"] = new JsonArray(translation.HeightRange.Lower, translation.HeightRange.Upper);
                config["width_factor"] = new JsonArray(translation.WidthRange.Lower, translation.WidthRange.Upper);
                config["fill_mode"] = Snake(translation.FillMode);
                config["interpolation"] = Snake(translation.Interpolation);
                config["seed"] = null;
                config["fill_value"] = translation.FillValue;
                config["data_format"] = "channels_last";
                break;
            case RandomCrop crop:
                // Padding is this library's training-only addition (torchvision's); Keras has no such argument, and
                // inference does not use it, so the archive describes the same inference model.
                config["height"] = crop.Height;
                config["width"] = crop.Width;
                config["seed"] = null;
                config["data_format"] = "channels_last";
                break;
            default:
                throw new NotSupportedException($"Layer '{layer.Name}' ({layer.KerasType}) has no Keras config here.");
        }

        return config;
    }

    private static void AddBatchNorm(JsonObject config, double momentum, double epsilon, BatchRenormalization? renorm)
    {
        config["axis"] = -1;
        config["momentum"] = momentum;
        config["epsilon"] = epsilon;
        config["center"] = true;
        config["scale"] = true;
        config["beta_initializer"] = Initializer("Zeros");
        config["gamma_initializer"] = Initializer("Ones");
        config["moving_mean_initializer"] = Initializer("Zeros");
        config["moving_variance_initializer"] = Initializer("Ones");
        config["beta_regularizer"] = null;
        config["gamma_regularizer"] = null;
        config["beta_constraint"] = null;
        config["gamma_constraint"] = null;
        config["synchronized"] = false;
        if (renorm is null)
        {
            // Keras 3.8 to 3.13 have no renorm arguments and reject them: a plain BN writes none.
            return;
        }

        config["renorm"] = true;
        // Keras takes fixed clipping bounds: a schedule is written as its final bounds (inference does not use them).
        config["renorm_clipping"] = new JsonObject
        {
            ["rmax"] = Finite(renorm.Clipping.RMax),
            ["rmin"] = Finite(renorm.Clipping.RMin),
            ["dmax"] = Finite(renorm.Clipping.DMax),
        };
        config["renorm_momentum"] = renorm.RenormMomentum;
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static void AddInitializersAndNulls(JsonObject config, string kernel, string bias, bool activityRegularizer)
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

    private static JsonObject Initializer(string className, JsonObject? config = null) => new()
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

    private static JsonArray Pair(int value) => [value, value];

    /// <summary>Keras's string for an enum value: <c>HorizontalAndVertical</c> is <c>horizontal_and_vertical</c>.</summary>
    private static string Snake<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    private static T FromSnake<T>(ConfigArguments args, string key, T defaultValue) where T : struct, Enum
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

    private static (double Lower, double Upper) Factor(ConfigArguments args, string key) => args.Take(key) switch
    {
        JsonArray { Count: 2 } pair => (pair[0]!.GetValue<double>(), pair[1]!.GetValue<double>()),
        JsonValue single => (-Math.Abs(single.GetValue<double>()), Math.Abs(single.GetValue<double>())),
        var other => throw args.Unsupported(key, other?.ToJsonString()),
    };

    private static Layer Augmentation(string className, ConfigArguments args, string name)
    {
        args.Expect("data_format", null, "channels_last");
        args.Take("seed");
        args.Take("value_range");
        switch (className)
        {
            case "RandomFlip":
                return new RandomFlip(FromSnake(args, "mode", FlipMode.HorizontalAndVertical), name: name);
            case "RandomTranslation":
                var height = Factor(args, "height_factor");
                var width = Factor(args, "width_factor");
                return new RandomTranslation(height, width, FromSnake(args, "fill_mode", FillMode.Reflect),
                    FromSnake(args, "interpolation", Interpolation.Bilinear), fillValue: args.Double("fill_value", 0), name: name);
            default:
                return new RandomCrop(args.Int("height"), args.Int("width"), name: name);
        }
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
        var model = new Sequential(inputShape, config["name"]?.GetValue<string>() ?? "sequential");
        try
        {
            foreach (var layerConfig in layerConfigs)
            {
                model.Add(CreateLayer(layerConfig, source));
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

        Layer layer = className switch
        {
            "Conv2D" => Conv(args, name),
            "Dense" => DenseLayer(args, name),
            "BatchNormalization" => Normalization(args, name),
            "MaxPooling2D" => Pooling(args, name),
            "Flatten" => FlattenLayer(args, name),
            "Activation" => new Activation(args.Activation("activation"), name),
            "Dropout" => DropoutLayer(args, name),
            "RandomFlip" or "RandomTranslation" or "RandomCrop" => Augmentation(className, args, name),
            _ => throw new ModelFileException(
                $"{source}: layer '{name}' is a {className}, which this library does not have (it has {string.Join(", ", Known)})."),
        };
        args.CheckAllUsed();
        return layer;
    }

    private static Conv2D Conv(ConfigArguments args, string name)
    {
        int filters = args.Int("filters");
        int kernel = args.Square("kernel_size");
        int strides = args.Square("strides", 1);
        var padding = args.Padding();
        args.Expect("data_format", "channels_last", null);
        args.Expect("dilation_rate", 1);
        args.Expect("groups", 1);
        var activation = args.Activation("activation");
        bool useBias = args.Bool("use_bias", true);
        IgnoreInitializersAndCheckNulls(args);
        return new Conv2D(filters, kernel, strides, padding, activation, useBias, name);
    }

    private static Dense DenseLayer(ConfigArguments args, string name)
    {
        int units = args.Int("units");
        var activation = args.Activation("activation");
        bool useBias = args.Bool("use_bias", true);
        IgnoreInitializersAndCheckNulls(args);
        return new Dense(units, activation, useBias, name);
    }

    private static Layer Normalization(ConfigArguments args, string name)
    {
        int axis = args.Int("axis", -1);
        if (axis is not (-1 or 3 or 1))
        {
            throw args.Unsupported("axis", axis);
        }

        double momentum = args.Double("momentum", 0.99);
        double epsilon = args.Double("epsilon", 1e-3);
        args.Expect("center", true);
        args.Expect("scale", true);
        foreach (string key in new[] { "beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer" })
        {
            args.Take(key);
        }

        foreach (string key in new[] { "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint" })
        {
            args.Take(key, mustBeNull: true);
        }

        args.Take("synchronized");
        bool renorm = args.Bool("renorm", false);
        var clipping = args.Take("renorm_clipping") as JsonObject;
        double renormMomentum = args.Double("renorm_momentum", 0.99);
        if (!renorm)
        {
            return new BatchNormalization(momentum, epsilon, name: name);
        }

        // tf-keras's defaults for missing bounds: rmax inf, rmin 0, dmax inf.
        double rmax = clipping?["rmax"]?.GetValue<double>() ?? double.PositiveInfinity;
        double rmin = clipping?["rmin"]?.GetValue<double>() ?? 0;
        double dmax = clipping?["dmax"]?.GetValue<double>() ?? double.PositiveInfinity;
        return new BatchRenormalization(momentum, epsilon, renormMomentum, RenormClipping.Fixed(rmax, dmax, rmin), name);
    }

    private static MaxPooling2D Pooling(ConfigArguments args, string name)
    {
        int pool = args.Square("pool_size", 2);
        int? strides = args.Has("strides") ? args.Square("strides", pool) : null;
        var padding = args.Padding();
        args.Expect("data_format", "channels_last", null);
        return new MaxPooling2D(pool, strides, padding, name);
    }

    private static Dropout DropoutLayer(ConfigArguments args, string name)
    {
        double rate = args.Double("rate", double.NaN);
        args.Take("noise_shape", mustBeNull: true);
        args.Take("seed");   // one seed drives every draw of a run
        return new Dropout(rate, name);
    }

    private static Flatten FlattenLayer(ConfigArguments args, string name)
    {
        args.Expect("data_format", "channels_last", null);
        return new Flatten(name);
    }

    private static void IgnoreInitializersAndCheckNulls(ConfigArguments args)
    {
        args.Take("kernel_initializer");
        args.Take("bias_initializer");
        foreach (string key in new[] { "kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint" })
        {
            args.Take(key, mustBeNull: true);
        }
    }
}
