using CifarBatchNorm.Data;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// Bounds on a model described by a <c>.keras</c> archive's <c>config.json</c>, checked before each layer is built (and
/// so before its weights are allocated): the input shape within the same range as the command line's input shape
/// (<c>ModelPresets.CheckInputShape</c>, bounded by <see cref="ImageShape"/>), at most <see cref="MaxLayers"/> layers and
/// <see cref="MaxParameters"/> weights in all, and no layer output of more than <see cref="MaxActivations"/> values per
/// image (each at least ten times what the notebook's model reaches at its largest input).
/// </summary>
internal static class KerasConfigLimits
{
    /// <summary>Most layers a config may list.</summary>
    public const int MaxLayers = 1_000;

    /// <summary>Most weights a config may describe: 100 million (400 MB in float32).</summary>
    public const long MaxParameters = 100_000_000;

    /// <summary>Most values one layer may output per image: 16,777,216 (64 MB in float32).</summary>
    public const long MaxActivations = 1L << 24;

    /// <summary>Throws unless the input shape is one the command line accepts.</summary>
    public static void CheckInput(LayerShape shape, string source)
    {
        if (shape.Rank == 3)
        {
            var image = new ImageShape(shape.Dims[0], shape.Dims[1], shape.Dims[2]);
            if (!image.IsWithinModelBounds)
            {
                throw new ModelFileException(
                    $"{source}: the config's input shape is out of range: ImageShape {image} is outside what the notebook's model can train here: sides of 1 to {ImageShape.MaxModelSide} pixels and 1 to {ImageShape.MaxModelChannels} channels.");
            }

            return;
        }

        long values = shape.Dims.Aggregate(1L, (a, d) => a * d);
        long largest = (long)ImageShape.MaxModelSide * ImageShape.MaxModelSide * ImageShape.MaxModelChannels;
        if (shape.Rank is < 1 or > 3 || values > largest)
        {
            throw new ModelFileException(
                $"{source}: the config's input shape {shape} is out of range: images of up to {ImageShape.MaxModelSide}x{ImageShape.MaxModelSide}x{ImageShape.MaxModelChannels} ({largest:N0} values) are loaded.");
        }
    }

    /// <summary>Throws when the config lists more layers than <see cref="MaxLayers"/>.</summary>
    public static void CheckLayerCount(int count, string source)
    {
        if (count > MaxLayers)
        {
            throw new ModelFileException($"{source}: the config lists {count:N0} layers, more than the {MaxLayers:N0} loaded.");
        }
    }

    /// <summary>
    /// Adds the weights <paramref name="layer"/> will hold once built on <paramref name="input"/> to
    /// <paramref name="total"/>, and throws when the sum passes <see cref="MaxParameters"/> or the layer's output
    /// would pass <see cref="MaxActivations"/> values.
    /// </summary>
    public static long AddParameters(Layer layer, LayerShape input, long total, string source)
    {
        long features = input.Rank == 0 ? 0 : input.Features;
        long outputs = layer switch
        {
            Dense dense => dense.Units,
            Conv2D conv => input.Dims.SkipLast(1).Aggregate(1L, (a, d) => a * d) * conv.Filters,
            _ => 0,
        };
        if (outputs > MaxActivations)
        {
            throw new ModelFileException(
                $"{source}: layer '{layer.Name}' ({layer.KerasType}) would output {outputs:N0} values per image, more than the {MaxActivations:N0} a model file may describe.");
        }

        long added = layer switch
        {
            Dense dense => (features + 1) * dense.Units,
            Conv2D conv => (((long)conv.KernelSize * conv.KernelSize * features) + 1) * conv.Filters,
            BatchNormalization or BatchRenormalization => 6 * features,
            _ => 0,
        };
        if (total + added > MaxParameters)
        {
            throw new ModelFileException(
                $"{source}: layer '{layer.Name}' ({layer.KerasType}) would bring the model to {total + added:N0} weights, more than the {MaxParameters:N0} ({MaxParameters * 4 / 1_000_000:N0} MB) a model file may describe.");
        }

        return total + added;
    }
}
