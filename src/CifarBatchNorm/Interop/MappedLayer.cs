using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop;

/// <summary>A layer of the model that has weights, with its place in Keras's files.</summary>
/// <param name="Layer">The layer.</param>
/// <param name="KerasClass">Keras's class name.</param>
/// <param name="KerasPath">The group Keras 3 stores it under, <c>layers/&lt;this&gt;/vars</c>: the snake-case class name, numbered per class (<c>conv2d</c>, <c>conv2d_1</c>, ...).</param>
/// <param name="Variables">Its variables in Keras's order.</param>
/// <param name="FlattenedFrom">For a Dense right after a Flatten of an image: the image shape (Keras's flatten order is (H, W, C), this library's (C, H, W)).</param>
internal sealed record MappedLayer(Layer Layer, string KerasClass, string KerasPath, IReadOnlyList<VariableMapping> Variables, LayerShape? FlattenedFrom)
{
    /// <summary>The layer's name in the model.</summary>
    public string Name => Layer.Name!;
}
