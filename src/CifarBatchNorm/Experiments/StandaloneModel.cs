using CifarBatchNorm.Data;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Builds the model of a file that came without a run folder: a tf.keras 2 full-model <c>.h5</c> (its
/// <c>model_config</c>), a <c>.safetensors</c> written by this library (its <c>keras_config</c> metadata), or bare
/// weights (<c>save_weights</c> <c>.h5</c>, <c>.weights.h5</c>, any <c>.safetensors</c>) with a named architecture.
/// </summary>
public static class StandaloneModel
{
    /// <summary>The architectures bare weights can name: <c>notebook</c>, the notebook's model (ReLU then BN).</summary>
    public static readonly IReadOnlyList<string> Architectures = ["notebook"];

    /// <summary>The hint an error gives for bare weights.</summary>
    private const string Hint = "name its architecture (architecture \"notebook\": the notebook's model, with the input shape and classes read from the weights), or give a run folder or a .keras archive";

    /// <summary>Builds the model <paramref name="path"/> describes and loads its weights.</summary>
    /// <param name="path">A <c>.h5</c>, <c>.weights.h5</c> or <c>.safetensors</c> file.</param>
    /// <param name="architecture">For bare weights: one of <see cref="Architectures"/>; <c>null</c> (the default) when the file carries its architecture.</param>
    /// <exception cref="ModelFileException">The file is missing, damaged, from another architecture, or bare weights without an architecture.</exception>
    public static Sequential Open(string path, string? architecture = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string source = Path.GetFullPath(path);
        if (!File.Exists(path))
        {
            throw new ModelFileException($"Model file not found: {source}.");
        }

        var format = ModelFiles.FormatOf(path);
        var own = format switch
        {
            ModelFileFormat.Onnx => throw new ModelFileException(OnnxMessage(source)),
            ModelFileFormat.Keras2Weights => FromKeras2(path, source),
            ModelFileFormat.Safetensors => SafetensorsWeights.LoadModel(path),
            _ => null,
        };
        if (own is not null)
        {
            if (architecture is not null)
            {
                own.Dispose();
                throw new ModelFileException($"{source} carries its own architecture; drop architecture \"{architecture}\", which is for bare weights only.");
            }

            return own;
        }

        if (format is not (ModelFileFormat.Keras2Weights or ModelFileFormat.Keras3Weights or ModelFileFormat.Safetensors))
        {
            throw new ModelFileException($"{source} holds weights only, and its architecture can be read from .h5, .weights.h5 and .safetensors files only; give the run folder it belongs to, or a .keras archive.");
        }

        if (architecture is null)
        {
            throw new ModelFileException($"{source} holds weights only, not the architecture; {Hint}.");
        }

        if (!Architectures.Contains(architecture.Trim().ToLowerInvariant()))
        {
            throw new ModelFileException($"architecture \"{architecture}\" is not one of {string.Join(", ", Architectures)}.");
        }

        var (shape, classes) = NotebookShape(WeightShapes.Read(path), source);
        return WithWeights(ModelPresets.Notebook(shape, classes), path);
    }

    /// <summary><paramref name="model"/> with the weights of <paramref name="path"/>; disposed when they do not load.</summary>
    internal static Sequential WithWeights(Sequential model, string path)
    {
        try
        {
            ModelFiles.LoadWeights(model, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The one-line answer to an ONNX file given as a model to load.</summary>
    public static string OnnxMessage(string source) =>
        $"{source} is an ONNX export, which this library writes but does not read back; run it with ONNX Runtime (Python: onnxruntime.InferenceSession(path).run(None, {{\"{OnnxExporter.InputName}\": images}}), images (N, H, W, C) float32 in [0, 1]), or give the run folder or weights it was exported from.";

    private static Sequential? FromKeras2(string path, string source)
    {
        if (Keras2ModelConfig.Read(path) is not { } config)
        {
            return null;
        }

        return WithWeights(Keras2ModelConfig.Deserialize(config, $"{source} ({Keras2ModelConfig.Attribute})"), path);
    }

    /// <summary>
    /// The notebook's input shape and classes from its kernels: the first convolution's input channels, the last
    /// dense layer's outputs, and the first dense layer's inputs, which are the last convolution's filters times
    /// (H / 4) x (W / 4) after the two poolings (square images whose side is a multiple of 4, as CIFAR-10's and
    /// Fashion-MNIST's).
    /// </summary>
    private static (ImageShape Shape, int Classes) NotebookShape(WeightShapes kernels, string source)
    {
        if (kernels.Convolutions.Count == 0 || kernels.Dense.Count == 0)
        {
            throw new ModelFileException($"{source} has {kernels.Convolutions.Count} convolution and {kernels.Dense.Count} dense kernels; the notebook's model has 4 and 2, so the file is from another architecture.");
        }

        int channels = kernels.Convolutions[0].In;
        int filters = kernels.Convolutions[^1].Out;
        int features = kernels.Dense[0].In;
        int classes = kernels.Dense[^1].Out;
        int side = (int)Math.Round(Math.Sqrt((double)features / filters));
        if (filters <= 0 || side < 1 || side * side * filters != features)
        {
            throw new ModelFileException($"{source}: its first dense kernel takes {features} features, which is not {filters} filters times a square image's cells after the notebook's two poolings; it is from another architecture.");
        }

        return (new ImageShape(side * 4, side * 4, channels), classes);
    }
}
