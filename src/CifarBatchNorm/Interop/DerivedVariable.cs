namespace CifarBatchNorm.Interop;

/// <summary>Computes a Keras variable that a layer does not store from the layer's state dict entries.</summary>
/// <param name="state">The layer's entries by state suffix, as flat float arrays.</param>
internal delegate float[] DerivedVariable(IReadOnlyDictionary<string, float[]> state);
