using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Interop;

/// <summary>Reads and writes a model's state dict (parameters and buffers) as flat float32 arrays, by full name.</summary>
internal static class ModelState
{
    /// <summary>Every float entry of the state dict (TorchSharp layout), by name (<c>conv2d.conv.weight</c>).</summary>
    public static Dictionary<string, WeightArray> Read(Sequential model)
    {
        var result = new Dictionary<string, WeightArray>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in model.state_dict())
        {
            if (tensor.dtype == ScalarType.Float32)
            {
                result[name] = new WeightArray(name, tensor.shape, tensor.detach().cpu().contiguous().data<float>().ToArray());
            }
        }

        return result;
    }

    /// <summary>The shape of every float entry of the state dict, by name.</summary>
    public static Dictionary<string, long[]> Shapes(Sequential model) =>
        model.state_dict().Where(kv => kv.Value.dtype == ScalarType.Float32)
            .ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);

    /// <summary>
    /// Copies <paramref name="values"/> (TorchSharp layout, by state name) into the model after checking every name
    /// and shape, so that either all entries are copied or none.
    /// </summary>
    /// <exception cref="ModelFileException">An entry names no state or has another shape.</exception>
    public static void Write(Sequential model, IReadOnlyDictionary<string, WeightArray> values, string source)
    {
        var state = model.state_dict();
        foreach (var (name, array) in values)
        {
            if (!state.TryGetValue(name, out var target))
            {
                throw new ModelFileException($"{source} has '{name}', which this model does not have; it is from another architecture.");
            }

            if (!target.shape.SequenceEqual(array.Shape) || array.Data.LongLength != target.numel())
            {
                throw new ModelFileException(
                    $"{source} does not match the model at '{name}': expected shape {WeightArray.FormatShape(target.shape)}, found {array.ShapeText}. It is from another architecture.");
            }
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (name, array) in values)
        {
            var target = state[name];
            target.copy_(tensor(array.Data, array.Shape, dtype: ScalarType.Float32).to(target.device));
        }
    }
}
