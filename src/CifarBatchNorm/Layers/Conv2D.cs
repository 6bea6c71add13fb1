using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// 2-D convolution, Keras <c>Conv2D</c>: <c>activation(conv(x, kernel) + bias)</c>. Kernels start glorot-uniform
/// and biases at zero, as in Keras. Input (N, C, H, W); reported shapes are Keras's (H, W, C).
/// </summary>
public sealed class Conv2D : ActivatedLayer
{
    private Conv2d? _conv;
    private int _padTop, _padBottom, _padLeft, _padRight;
    private bool _padInput;

    /// <summary>The padding of each side (TensorFlow's split for 'same'); zeros for 'valid'. Set when the layer is built.</summary>
    internal (int Top, int Bottom, int Left, int Right) Pads => (_padTop, _padBottom, _padLeft, _padRight);

    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; at least 1.</param>
    /// <param name="kernelSize">Square kernel size; at least 1. Keras's <c>(3, 3)</c> is 3.</param>
    /// <param name="strides">Stride in both directions. The default value is 1.</param>
    /// <param name="padding">Padding mode. The default value is <see cref="ConvPadding.Valid"/>, as in Keras.</param>
    /// <param name="activation">Activation applied to the output. The default value is <see cref="ActivationFunction.Linear"/>.</param>
    /// <param name="useBias">Whether the layer has a bias. The default value is <c>true</c>.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>conv2d</c>, <c>conv2d_1</c>, ...</param>
    public Conv2D(int filters, int kernelSize, int strides = 1, ConvPadding padding = ConvPadding.Valid,
        ActivationFunction activation = ActivationFunction.Linear, bool useBias = true, string? name = null)
        : base(activation, useBias, name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(filters, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(strides, 1);
        if (!Enum.IsDefined(padding))
        {
            throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be Valid or Same.");
        }

        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides;
        Padding = padding;
    }

    /// <summary>Output channels.</summary>
    public int Filters { get; }

    /// <summary>Kernel height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Stride.</summary>
    public int Strides { get; }

    /// <summary>Padding mode.</summary>
    public ConvPadding Padding { get; }

    /// <summary>The underlying TorchSharp convolution (weight (filters, C, k, k)); available once built.</summary>
    public Conv2d Convolution => _conv ?? throw new InvalidOperationException($"Conv2D '{Name}' is not built yet.");

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape)
    {
        if (inputShape.Rank != 3)
        {
            throw new ArgumentException($"Conv2D expects an image input (height, width, channels), got {inputShape}.", nameof(inputShape));
        }

        int h = inputShape.Dims[0], w = inputShape.Dims[1], c = inputShape.Dims[2];
        (int outH, _padTop, _padBottom) = SamePadding.Output(h, KernelSize, Strides, Padding);
        (int outW, _padLeft, _padRight) = SamePadding.Output(w, KernelSize, Strides, Padding);
        if (outH < 1 || outW < 1)
        {
            throw new ArgumentException($"Conv2D kernel {KernelSize}x{KernelSize} does not fit input {inputShape} with padding '{Padding}'.", nameof(inputShape));
        }

        // Symmetric padding goes into the convolution; TensorFlow's asymmetric 'same' (the extra row and column at the
        // bottom and right, for even kernels or strides > 1) pads the input first.
        bool symmetric = _padTop == _padBottom && _padLeft == _padRight && _padTop == _padLeft;
        _conv = nn.Conv2d(c, Filters, KernelSize, stride: Strides, padding: symmetric ? _padTop : 0, bias: UseBias);
        _padInput = !symmetric;
        InitializeAndRegister("conv", _conv, _conv.weight!, _conv.bias);
        return new LayerShape(outH, outW, Filters);
    }

    /// <summary>Whether inference on CPU switches the input to channels-last (<see cref="LayoutPolicy.ChannelsLastInference"/>).</summary>
    internal bool ChannelsLastInference { get; set; }

    /// <summary>Whether training on CPU switches the input to channels-last (<see cref="LayoutPolicy.ChannelsLastFromInputTraining"/>).</summary>
    internal bool ChannelsLastTraining { get; set; }

    /// <summary>Whether every call on CPU computes channels-last (<see cref="LayoutPolicy.ChannelsLastConvolutions"/>).</summary>
    internal bool ChannelsLastAlways { get; set; }

    /// <inheritdoc />
    protected internal override void ApplyLayout(LayoutPolicy layout)
    {
        ChannelsLastInference = layout.ChannelsLastInference;
        ChannelsLastTraining = layout.ChannelsLastFromInputTraining;
        ChannelsLastAlways = layout.ChannelsLastConvolutions;
    }

    /// <summary>
    /// In inference on CPU (gradients off), the same (B, C, H, W) tensor with NHWC strides: the convolutions keep
    /// that layout, so only the first one converts, and ReLU, BatchNorm and max-pooling then run their vectorized
    /// channels-last kernels (docs/performance.md). Flatten still reads (C, H, W) order. In training the first
    /// convolutions stay NCHW (libtorch's channels-last batch norm is slower than the NCHW one with 8 channels); a
    /// channels-last input, as MaxPooling2D gives in training, keeps its layout. A one-channel input is NCHW to
    /// libtorch either way, so with 28x28x1 images the inference switch happens at the second convolution. With
    /// <see cref="LayoutPolicy.ChannelsLastConvolutions"/> every convolution switches, in training and inference alike.
    /// </summary>
    private Tensor ToChannelsLast(Tensor input)
    {
        bool training = is_grad_enabled();
        if (!(ChannelsLastAlways || (training ? ChannelsLastTraining : ChannelsLastInference)) || input.device_type != DeviceType.CPU || input.stride(1) == 1)
        {
            return input;
        }

        // One channel: the same memory either way, but libtorch reads NCHW strides as NCHW and answers NCHW. In training
        // the whole network channels-last (LayoutPolicy.ChannelsLastFromInputTraining), and wherever every convolution
        // must be channels-last, it takes a view with NHWC strides, which makes the convolution answer channels-last: no
        // copy here and none before the next convolution.
        return (training || ChannelsLastAlways) && input.shape[1] == 1 && input.is_contiguous()
            ? input.as_strided(input.shape, [input.shape[2] * input.shape[3], 1, input.shape[3], 1])
            : LayoutSwitch.ChannelsLast(input);
    }

    /// <inheritdoc />
    protected override Tensor ForwardLinear(Tensor input)
    {
        CheckRank(input, 4);
        var x = _padInput ? nn.functional.pad(input, [_padLeft, _padRight, _padTop, _padBottom]) : input;
        return ChannelsLastAlways && x.shape[1] == 1 && x.requires_grad && x.device_type == DeviceType.CPU
            ? ForwardOneChannelWithGradient(x)
            : Convolution.call(ToChannelsLast(x));
    }

    /// <summary>
    /// A one-channel input whose gradient is wanted, where every convolution must be channels-last: with one channel
    /// NCHW and NHWC are the same memory, oneDNN takes it for NCHW, and its AVX-512 input-gradient kernel is then wrong
    /// (<c>OneDnnAvx512Tests</c>). A second, zero channel with zero weights makes the input channels-last to oneDNN and
    /// changes no value: the gradients of the real channel and weights are the first slices of the padded ones.
    /// </summary>
    private Tensor ForwardOneChannelWithGradient(Tensor x)
    {
        var conv = Convolution;
        var padded = LayoutSwitch.ChannelsLast(cat([x, zeros_like(x)], 1));
        var weight = cat([conv.weight!, zeros_like(conv.weight!)], 1);
        long pad = conv.padding?[0] ?? 0;
        return nn.functional.conv2d(padded, weight, conv.bias, strides: [Strides, Strides], padding: [pad, pad]);
    }
}
