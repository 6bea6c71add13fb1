namespace CifarBatchNorm.Layers;

/// <summary>
/// The memory layouts the CPU kernels of a model use: plain data, chosen once where the model is set up (see
/// <c>Training.ExecutionPolicy</c>) and handed to every layer, so a layer never consults process state. Values, not
/// layouts, are what a model computes: both layouts give the same numbers up to float rounding, and one policy gives
/// the same numbers every run.
/// </summary>
/// <param name="ChannelsLastTraining">
/// In training on CPU, <c>MaxPooling2D</c> pools a channels-last copy and leaves its output channels-last, so the
/// layers after the first pooling run their channels-last kernels.
/// </param>
/// <param name="ChannelsLastInference">In inference on CPU, the first convolution switches to channels-last and the rest of the network follows.</param>
/// <param name="MinChannelsLastNormChannels">
/// A channels-last input of a 2-D batch normalization with fewer channels than this is normalized in NCHW (libtorch's
/// channels-last batch-norm kernels are slower than the NCHW ones on narrow tensors).
/// </param>
public sealed record LayoutPolicy(bool ChannelsLastTraining, bool ChannelsLastInference, int MinChannelsLastNormChannels)
{
    /// <summary>
    /// In training on CPU, the first convolution switches its input to channels-last, so the whole network trains
    /// channels-last. The default value is <c>false</c>: libtorch's 8-channel batch norm is 3-4x slower channels-last;
    /// the fused kernels (<c>ExecutionPolicy.FusedKernels</c>) are not, and the convolutions and pooling are faster so.
    /// </summary>
    public bool ChannelsLastFromInputTraining { get; init; }

    /// <summary>
    /// On the CPU every convolution computes channels-last, in training and in inference (a one-channel input as a
    /// view with NHWC strides, others as a copy), whatever the other switches say. Required where oneDNN runs its
    /// AVX-512 kernels (the runtime settings' <c>OneDnnAvx512</c>): they compute wrong or NaN input gradients for NCHW
    /// convolutions with 8 output channels (`ConvolutionGradientTests`), right ones channels-last. The default value is
    /// <c>false</c>.
    /// </summary>
    public bool ChannelsLastConvolutions { get; init; }

    /// <summary>Every layer NCHW, in training and in inference (the layout TorchSharp modules use by default).</summary>
    public static LayoutPolicy ChannelsFirst { get; } = new(false, false, 0);

    /// <summary>
    /// The fastest measured on CPU (docs/performance.md): channels-last after the first pooling in training and from
    /// the first convolution in inference; batch norms with fewer than 16 channels stay NCHW.
    /// </summary>
    public static LayoutPolicy FastCpu { get; } = new(true, true, 16);
}
