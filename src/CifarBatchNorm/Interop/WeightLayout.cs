namespace CifarBatchNorm.Interop;

/// <summary>How one variable is laid out in Keras compared with TorchSharp.</summary>
internal enum WeightLayout
{
    /// <summary>A per-feature vector (bias, gamma, beta, moving statistics): the same in both.</summary>
    Vector,

    /// <summary>A convolution kernel: Keras (kh, kw, in, out) "HWIO", TorchSharp (out, in, kh, kw) "OIHW".</summary>
    ConvKernel,

    /// <summary>A dense kernel: Keras (in, out), TorchSharp (out, in).</summary>
    DenseKernel,
}
