using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary>
/// The one table of layer codecs: every format (Keras config and weights, safetensors, PyTorch, ONNX) finds a layer's
/// description here, so adding a layer type means adding one <see cref="LayerCodec"/> to <see cref="All"/>.
/// </summary>
internal static class LayerCodecs
{
    /// <summary>Every codec, one per concrete layer type.</summary>
    public static IReadOnlyList<LayerCodec> All { get; } =
    [
        new Conv2DCodec(),
        new DenseCodec(),
        new BatchNormalizationCodec(),
        new BatchRenormalizationCodec(),
        new MaxPooling2DCodec(),
        new FlattenCodec(),
        new ActivationCodec(),
        new DropoutCodec(),
        new RandomFlipCodec(),
        new RandomTranslationCodec(),
        new RandomCropCodec(),
    ];

    private static readonly Dictionary<Type, LayerCodec> ByType = All.ToDictionary(c => c.LayerType);

    private static readonly Dictionary<string, LayerCodec> ByKerasClass =
        All.Where(c => c.ReadsKerasClass is not null).ToDictionary(c => c.ReadsKerasClass!, StringComparer.Ordinal);

    /// <summary>The Keras class names a config may hold.</summary>
    public static IEnumerable<string> KerasClasses => ByKerasClass.Keys;

    /// <summary>The codec of <paramref name="layer"/>'s type.</summary>
    /// <exception cref="NotSupportedException">A layer type without a codec.</exception>
    public static LayerCodec For(Layer layer) =>
        ByType.GetValueOrDefault(layer.GetType()) ?? throw new NotSupportedException(
            $"Layer '{layer.Name}' of type {layer.GetType().Name} has no codec in {nameof(LayerCodecs)}: no file format can describe it.");

    /// <summary>The codec that reads a Keras config of class <paramref name="kerasClass"/>, or <c>null</c>.</summary>
    public static LayerCodec? ForKerasClass(string kerasClass) => ByKerasClass.GetValueOrDefault(kerasClass);

    /// <summary>The variables of <paramref name="layer"/> in Keras's order; empty for layers without weights.</summary>
    public static IReadOnlyList<VariableMapping> Variables(Layer layer) => For(layer).Variables(layer);

    /// <summary>Keras's class name for the layer (Batch Renormalization is Keras's <c>BatchNormalization(renorm=True)</c>).</summary>
    public static string KerasClassName(Layer layer) => For(layer).KerasClassName(layer);
}
