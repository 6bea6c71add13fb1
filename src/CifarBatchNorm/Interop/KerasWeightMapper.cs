using System.Text.RegularExpressions;
using CifarBatchNorm.Interop.Codecs;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Interop;

/// <summary>
/// Moves weights between a model and Keras's layout: HWIO convolution kernels, (in, out) dense kernels, the first
/// dense kernel after Flatten in (H, W, C) row order, BN variables by name. Import validates every layer before it
/// copies anything, so a mismatching file leaves the model as it was.
/// </summary>
internal static partial class KerasWeightMapper
{
    /// <summary>The model's layers that have weights, with their Keras names and paths.</summary>
    public static IReadOnlyList<MappedLayer> Layers(Sequential model)
    {
        var result = new List<MappedLayer>();
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        Layer? previous = null;
        foreach (var layer in model.Layers)
        {
            string kerasClass = LayerCodecs.KerasClassName(layer);
            string path = UniqueName(SnakeCase(kerasClass), used);
            var variables = LayerCodecs.Variables(layer);
            if (variables.Count > 0)
            {
                var flattenedFrom = layer is Dense && previous is Flatten flatten && flatten.InputShape.Rank == 3 ? flatten.InputShape : null;
                result.Add(new MappedLayer(layer, kerasClass, path, variables, flattenedFrom));
            }

            // Dropout and Activation keep the flattened order, so a Dense after Flatten, Dropout still reads (H, W, C) rows.
            previous = layer is Dropout or Activation && previous is Flatten ? previous : layer;
        }

        return result;
    }

    /// <summary>Every variable of every layer in Keras's layout, layer by layer.</summary>
    public static IReadOnlyList<(MappedLayer Layer, IReadOnlyList<WeightArray> Variables)> Export(Sequential model)
    {
        var state = ModelState.Read(model);
        var result = new List<(MappedLayer, IReadOnlyList<WeightArray>)>();
        foreach (var mapped in Layers(model))
        {
            var own = state.Where(kv => kv.Key.StartsWith(mapped.Name + ".", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[(mapped.Name.Length + 1)..], kv => kv.Value.Data, StringComparer.Ordinal);
            var variables = new List<WeightArray>();
            foreach (var variable in mapped.Variables)
            {
                string key = $"{mapped.Name}.{variable.StateSuffix}";
                if (state.TryGetValue(key, out var entry))
                {
                    var (shape, data) = ToKeras(variable.Layout, entry.Shape, entry.Data, mapped.FlattenedFrom);
                    variables.Add(new WeightArray(variable.KerasName, shape, data));
                }
                else if (variable.Derived is not null)
                {
                    float[] data = variable.Derived(own);
                    variables.Add(new WeightArray(variable.KerasName, [data.Length], data));
                }
                else
                {
                    throw new InvalidOperationException($"Layer '{mapped.Name}' has no state entry '{key}' that the mapping table names.");
                }
            }

            result.Add((mapped, variables));
        }

        return result;
    }

    /// <summary>
    /// Validates the file's variables for every layer (<paramref name="fileLayers"/> is aligned with <see cref="Layers"/>;
    /// <c>null</c> where the file has no such layer), then copies them into the model.
    /// </summary>
    /// <param name="model">The model to fill.</param>
    /// <param name="fileLayers">Per model layer: the file's name for the layer and its variables in Keras order, or <c>null</c>.</param>
    /// <param name="source">The file, for messages.</param>
    /// <param name="checkNames">Whether the file's variable names must end with Keras's (<c>kernel:0</c>); Keras 3 files number them.</param>
    /// <exception cref="ModelFileException">The first layer or variable that does not match.</exception>
    public static void Import(Sequential model, IReadOnlyList<(string FileName, IReadOnlyList<WeightArray> Variables)?> fileLayers, string source, bool checkNames)
    {
        var layers = Layers(model);
        var state = ModelState.Shapes(model);
        var converted = new Dictionary<string, WeightArray>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
        {
            var mapped = layers[i];
            string described = $"layer '{mapped.Name}' ({mapped.KerasClass})";
            if (fileLayers[i] is not { } found)
            {
                throw new ModelFileException($"{source} does not hold weights for this model: it has no weights for {described}, expected at '{mapped.KerasPath}'. It is from another architecture.");
            }

            var stored = checkNames ? ByName(found.Variables, mapped, source, described, found.FileName) : found.Variables;
            if (stored.Count != mapped.Variables.Count)
            {
                throw Mismatch(source, described, found.FileName,
                    $"expected {mapped.Variables.Count} variables ({string.Join(", ", mapped.Variables.Select(v => v.KerasName))}), found {stored.Count}");
            }

            for (int j = 0; j < mapped.Variables.Count; j++)
            {
                var variable = mapped.Variables[j];
                var array = stored[j];
                string key = $"{mapped.Name}.{variable.StateSuffix}";
                bool present = state.TryGetValue(key, out long[]? torchShape);
                if (!present && variable.Derived is null)
                {
                    throw new InvalidOperationException($"Layer '{mapped.Name}' has no state entry '{key}' that the mapping table names.");
                }

                // A derived variable the layer does not store has the shape of the layer's other per-feature vectors.
                long[] kerasShape = present
                    ? KerasShape(variable.Layout, torchShape!)
                    : state[$"{mapped.Name}.{mapped.Variables[0].StateSuffix}"];
                if (!array.Shape.SequenceEqual(kerasShape))
                {
                    throw Mismatch(source, described, found.FileName,
                        $"variable '{variable.KerasName}' expected shape {WeightArray.FormatShape(kerasShape)}, found {array.ShapeText}");
                }

                if (present)
                {
                    var (shape, data) = FromKeras(variable.Layout, array.Shape, array.Data, torchShape!, mapped.FlattenedFrom);
                    converted[key] = new WeightArray(key, shape, data);
                }
            }
        }

        ModelState.Write(model, converted, source);
    }

    private static ModelFileException Mismatch(string source, string described, string fileName, string what) =>
        new($"{source} does not match the model at {described} (file layer '{fileName}'): {what}. It is from another architecture.");

    /// <summary>The file's variables in the table's order, matched by name (tf-keras orders renorm's differently).</summary>
    private static List<WeightArray> ByName(IReadOnlyList<WeightArray> variables, MappedLayer mapped, string source, string described, string fileName)
    {
        var result = new List<WeightArray>();
        foreach (var variable in mapped.Variables)
        {
            var match = variables.FirstOrDefault(v => NameMatches(v.Name, variable.KerasName))
                ?? throw Mismatch(source, described, fileName,
                    $"expected variable '{variable.KerasName}', found {(variables.Count == 0 ? "none" : string.Join(", ", variables.Select(v => $"'{v.Name}'")))}");
            result.Add(match);
        }

        return variables.Count > result.Count ? [.. result, .. variables.Except(result)] : result;
    }

    private static bool NameMatches(string stored, string kerasName)
    {
        string last = stored[(stored.LastIndexOf('/') + 1)..];
        int colon = last.IndexOf(':', StringComparison.Ordinal);
        return (colon >= 0 ? last[..colon] : last) == kerasName;
    }

    /// <summary>Keras's shape of a variable whose TorchSharp shape is <paramref name="torchShape"/>.</summary>
    public static long[] KerasShape(WeightLayout layout, long[] torchShape) => layout switch
    {
        WeightLayout.ConvKernel => [torchShape[2], torchShape[3], torchShape[1], torchShape[0]],
        WeightLayout.DenseKernel => [torchShape[1], torchShape[0]],
        _ => torchShape,
    };

    /// <summary>Converts a TorchSharp array to Keras's layout.</summary>
    public static (long[] Shape, float[] Data) ToKeras(WeightLayout layout, long[] shape, float[] data, LayerShape? flattenedFrom)
    {
        switch (layout)
        {
            case WeightLayout.ConvKernel:
            {
                int o = (int)shape[0], i = (int)shape[1], kh = (int)shape[2], kw = (int)shape[3];
                var result = new float[data.Length];
                for (int oo = 0; oo < o; oo++)
                {
                    for (int ii = 0; ii < i; ii++)
                    {
                        for (int y = 0; y < kh; y++)
                        {
                            for (int x = 0; x < kw; x++)
                            {
                                result[((((y * kw) + x) * i) + ii) * o + oo] = data[((((oo * i) + ii) * kh) + y) * kw + x];
                            }
                        }
                    }
                }

                return ([kh, kw, i, o], result);
            }

            case WeightLayout.DenseKernel:
            {
                int o = (int)shape[0], n = (int)shape[1];
                int[] column = FlattenColumns(n, flattenedFrom);
                var result = new float[data.Length];
                for (int r = 0; r < n; r++)
                {
                    for (int oo = 0; oo < o; oo++)
                    {
                        result[(r * o) + oo] = data[(oo * n) + column[r]];
                    }
                }

                return ([n, o], result);
            }

            default:
                return (shape, data);
        }
    }

    /// <summary>Converts a Keras array to TorchSharp's layout (<paramref name="torchShape"/>).</summary>
    public static (long[] Shape, float[] Data) FromKeras(WeightLayout layout, long[] kerasShape, float[] data, long[] torchShape, LayerShape? flattenedFrom)
    {
        switch (layout)
        {
            case WeightLayout.ConvKernel:
            {
                int kh = (int)kerasShape[0], kw = (int)kerasShape[1], i = (int)kerasShape[2], o = (int)kerasShape[3];
                var result = new float[data.Length];
                for (int oo = 0; oo < o; oo++)
                {
                    for (int ii = 0; ii < i; ii++)
                    {
                        for (int y = 0; y < kh; y++)
                        {
                            for (int x = 0; x < kw; x++)
                            {
                                result[((((oo * i) + ii) * kh) + y) * kw + x] = data[((((y * kw) + x) * i) + ii) * o + oo];
                            }
                        }
                    }
                }

                return (torchShape, result);
            }

            case WeightLayout.DenseKernel:
            {
                int n = (int)kerasShape[0], o = (int)kerasShape[1];
                int[] column = FlattenColumns(n, flattenedFrom);
                var result = new float[data.Length];
                for (int r = 0; r < n; r++)
                {
                    for (int oo = 0; oo < o; oo++)
                    {
                        result[(oo * n) + column[r]] = data[(r * o) + oo];
                    }
                }

                return (torchShape, result);
            }

            default:
                return (torchShape, data);
        }
    }

    /// <summary>For Keras input row r (flattened (H, W, C)): the column of this library's (C, H, W) flatten.</summary>
    private static int[] FlattenColumns(int n, LayerShape? flattenedFrom)
    {
        var column = new int[n];
        if (flattenedFrom is null)
        {
            for (int r = 0; r < n; r++)
            {
                column[r] = r;
            }

            return column;
        }

        int h = flattenedFrom.Dims[0], w = flattenedFrom.Dims[1], c = flattenedFrom.Dims[2];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    column[(((y * w) + x) * c) + ch] = (((ch * h) + y) * w) + x;
                }
            }
        }

        return column;
    }

    private static string UniqueName(string name, Dictionary<string, int> used)
    {
        if (used.TryGetValue(name, out int count))
        {
            used[name] = count + 1;
            return $"{name}_{count + 1}";
        }

        used[name] = 0;
        return name;
    }

    /// <summary>Keras's <c>naming.to_snake_case</c>: <c>Conv2D</c> to <c>conv2d</c>, <c>MaxPooling2D</c> to <c>max_pooling2d</c>.</summary>
    public static string SnakeCase(string name)
    {
        string s = NonWord().Replace(name, string.Empty);
        s = CapitalWord().Replace(s, "$1_$2");
        return LowerUpper().Replace(s, "$1_$2").ToLowerInvariant();
    }

    [GeneratedRegex(@"\W+")]
    private static partial Regex NonWord();

    [GeneratedRegex("(.)([A-Z][a-z]+)")]
    private static partial Regex CapitalWord();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex LowerUpper();
}
