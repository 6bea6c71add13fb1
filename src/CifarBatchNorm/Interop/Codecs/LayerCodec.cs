using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary>
/// Every file format's view of one layer type, in one place: its Keras class and config (<c>.keras</c>), its
/// variables under their Keras, state-dict and PyTorch names with their layouts (<c>.weights.h5</c>, <c>.h5</c>,
/// <c>.safetensors</c>), its PyTorch equivalent module, and its ONNX nodes. Registered in <see cref="LayerCodecs"/>;
/// a layer type without one is named by a test.
/// </summary>
internal abstract class LayerCodec
{
    /// <summary>The layer type this codec describes.</summary>
    public abstract Type LayerType { get; }

    /// <summary>The Keras class name this codec reads from a config, or <c>null</c> when another codec reads it (Batch Renormalization is Keras's <c>BatchNormalization(renorm=True)</c>).</summary>
    public virtual string? ReadsKerasClass => null;

    /// <summary>Keras's class name for the layer.</summary>
    public virtual string KerasClassName(Layer layer) => layer.KerasType;

    /// <summary>The layer's variables in Keras's order (Keras 3 files store them by position); empty for a layer without weights.</summary>
    public virtual IReadOnlyList<VariableMapping> Variables(Layer layer) => [];

    /// <summary>The epsilon of a normalization layer whose moving statistics ONNX export can fold into the convolution before it; <c>null</c> for other layers.</summary>
    public virtual double? FoldableEpsilon(Layer layer) => null;

    /// <summary>Whether PyTorch's equivalent module keeps a <c>num_batches_tracked</c> counter in its state dict.</summary>
    public virtual bool TracksBatches => false;

    /// <summary>Adds the layer's own arguments to its Keras config (name, trainable and dtype are there already).</summary>
    public abstract void WriteKerasConfig(Layer layer, JsonObject config);

    /// <summary>Builds the layer a Keras config describes (for the codec that <see cref="ReadsKerasClass"/>).</summary>
    public virtual Layer ReadKerasConfig(ConfigArguments args, string name) =>
        throw new NotSupportedException($"{GetType().Name} reads no Keras config.");

    /// <summary>Adds the layer's PyTorch modules (Python source) to <paramref name="modules"/>, recording the index of the one holding its weights.</summary>
    public abstract void AddPyTorchModules(Layer layer, PyTorchEquivalent.Modules modules);

    /// <summary>Adds the layer's ONNX nodes after <paramref name="x"/>; returns the output, and whether <paramref name="next"/> was folded in.</summary>
    public abstract (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, Layer layer, Layer? next);
}

/// <summary>A <see cref="LayerCodec"/> for layers of type <typeparamref name="TLayer"/>.</summary>
/// <typeparam name="TLayer">The layer type.</typeparam>
internal abstract class LayerCodec<TLayer> : LayerCodec
    where TLayer : Layer
{
    /// <inheritdoc />
    public sealed override Type LayerType => typeof(TLayer);

    /// <inheritdoc />
    public sealed override IReadOnlyList<VariableMapping> Variables(Layer layer) => Variables((TLayer)layer);

    /// <inheritdoc />
    public sealed override void WriteKerasConfig(Layer layer, JsonObject config) => WriteKerasConfig((TLayer)layer, config);

    /// <inheritdoc />
    public sealed override void AddPyTorchModules(Layer layer, PyTorchEquivalent.Modules modules) => AddPyTorchModules((TLayer)layer, modules);

    /// <inheritdoc />
    public sealed override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, Layer layer, Layer? next) =>
        ExportOnnx(graph, x, (TLayer)layer, next);

    /// <inheritdoc cref="LayerCodec.Variables(Layer)" />
    protected virtual IReadOnlyList<VariableMapping> Variables(TLayer layer) => [];

    /// <inheritdoc cref="LayerCodec.WriteKerasConfig(Layer, JsonObject)" />
    protected abstract void WriteKerasConfig(TLayer layer, JsonObject config);

    /// <inheritdoc cref="LayerCodec.AddPyTorchModules(Layer, PyTorchEquivalent.Modules)" />
    protected abstract void AddPyTorchModules(TLayer layer, PyTorchEquivalent.Modules modules);

    /// <inheritdoc cref="LayerCodec.ExportOnnx(OnnxExporter.GraphBuilder, string, Layer, Layer?)" />
    protected abstract (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, TLayer layer, Layer? next);
}
