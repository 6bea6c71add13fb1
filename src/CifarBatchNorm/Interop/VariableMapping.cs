namespace CifarBatchNorm.Interop;

/// <summary>One variable of a layer under its three names.</summary>
/// <param name="KerasName">Keras's variable name (<c>kernel</c>, <c>gamma</c>, ...); Keras 3 stores the variables by position in this order.</param>
/// <param name="StateSuffix">The entry of this library's state dict, after <c>&lt;layer name&gt;.</c>.</param>
/// <param name="PyTorchName">The name in PyTorch's equivalent module (<c>weight</c>, <c>running_mean</c>, ...); <c>null</c> when PyTorch's module has none.</param>
/// <param name="Layout">How the array is transposed between Keras and TorchSharp.</param>
/// <param name="Derived">
/// For a variable Keras has and this layer may lack: how to compute it on export from the layer's other state
/// (it is then skipped on import); <c>null</c> when the layer always has it.
/// </param>
internal sealed record VariableMapping(string KerasName, string StateSuffix, string? PyTorchName, WeightLayout Layout, DerivedVariable? Derived = null);
