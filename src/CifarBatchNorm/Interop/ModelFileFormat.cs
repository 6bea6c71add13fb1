namespace CifarBatchNorm.Interop;

/// <summary>The model file formats <see cref="ModelFiles"/> knows, chosen by extension.</summary>
public enum ModelFileFormat
{
    /// <summary><c>.pt</c>: TorchSharp's <c>module.save</c> format.</summary>
    TorchSharp,

    /// <summary><c>.weights.h5</c>: Keras 3 <c>model.save_weights</c>.</summary>
    Keras3Weights,

    /// <summary><c>.h5</c>: tf.keras 2 <c>model.save</c> / <c>save_weights</c> (read only).</summary>
    Keras2Weights,

    /// <summary><c>.safetensors</c>: the state dict with PyTorch's names.</summary>
    Safetensors,

    /// <summary><c>.keras</c>: a Keras 3 archive (config, metadata, weights).</summary>
    KerasArchive,

    /// <summary><c>.onnx</c>: an ONNX export (write only).</summary>
    Onnx,
}
