using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Max pooling, Keras <c>MaxPooling2D</c>. With <c>valid</c> padding (the default) the output size is
/// floor((size - pool) / strides) + 1; with <c>same</c> it is ceil(size / strides), the input padded as TensorFlow
/// pads it (the extra row and column at the bottom and right) with values that never win.
/// </summary>
public sealed class MaxPooling2D : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="poolSize">Square window size. The default value is 2.</param>
    /// <param name="strides">Stride; <c>null</c> (the default) means <paramref name="poolSize"/>, as in Keras.</param>
    /// <param name="padding">Padding mode. The default value is <see cref="ConvPadding.Valid"/>, as in Keras.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>max_pooling2d</c>, ...</param>
    public MaxPooling2D(int poolSize = 2, int? strides = null, ConvPadding padding = ConvPadding.Valid, string? name = null) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(poolSize, 1);
        if (strides is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(strides), strides, "strides must be at least 1.");
        }

        if (!Enum.IsDefined(padding))
        {
            throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be Valid or Same.");
        }

        PoolSize = poolSize;
        Strides = strides ?? poolSize;
        Padding = padding;
    }

    /// <summary>Padding mode.</summary>
    public ConvPadding Padding { get; }

    private long[]? _pad; // (left, right, top, bottom) for 'same', null when none is needed

    /// <summary>The padding of each side (TensorFlow's split for 'same'); zeros for 'valid'. Set when the layer is built.</summary>
    internal (int Top, int Bottom, int Left, int Right) Pads =>
        _pad is null ? (0, 0, 0, 0) : ((int)_pad[2], (int)_pad[3], (int)_pad[0], (int)_pad[1]);

    /// <summary>Window size.</summary>
    public int PoolSize { get; }

    /// <summary>Stride.</summary>
    public int Strides { get; }

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape)
    {
        if (inputShape.Rank != 3 || (Padding == ConvPadding.Valid && (inputShape.Dims[0] < PoolSize || inputShape.Dims[1] < PoolSize)))
        {
            throw new ArgumentException($"MaxPooling2D({PoolSize}) expects an image input of at least {PoolSize}x{PoolSize}, got {inputShape}.", nameof(inputShape));
        }

        var (outH, top, bottom) = SamePadding.Output(inputShape.Dims[0], PoolSize, Strides, Padding);
        var (outW, left, right) = SamePadding.Output(inputShape.Dims[1], PoolSize, Strides, Padding);
        _pad = top + bottom + left + right > 0 ? [left, right, top, bottom] : null;
        return new LayerShape(outH, outW, inputShape.Dims[2]);
    }

    /// <summary>Whether the windows are 2x2 with stride 2 and no padding: each input value in at most one window (the pooling the fused kernels take, <see cref="FusedBatchNormPool"/>).</summary>
    internal bool HalvesWithoutOverlap => PoolSize == 2 && Strides == 2 && _pad is null;

    /// <summary>Whether training on CPU pools a channels-last copy and stays channels-last (<see cref="LayoutPolicy.ChannelsLastTraining"/>).</summary>
    internal bool ChannelsLastTraining { get; set; }

    /// <inheritdoc />
    protected internal override void ApplyLayout(LayoutPolicy layout) => ChannelsLastTraining = layout.ChannelsLastTraining;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        CheckRank(input, 4);
        if (_pad is not null)
        {
            input = nn.functional.pad(input, _pad, value: double.NegativeInfinity);
        }

        if (input.device_type == DeviceType.CPU && input.shape[1] > 1 && input.is_contiguous()
            && ChannelsLastTraining)
        {
            // libtorch's NCHW max-pool kernel is scalar; the channels-last one is vectorized across channels: pooling a
            // channels-last copy is faster forward + backward, with the same values and the same winner in each window
            // (the first maximum), so the same gradients. The result stays channels-last, and so do the layers after it,
            // whose channels-last kernels are faster (docs/performance.md). In inference the input is already
            // channels-last (see Conv2D). The copy sends its gradient back NCHW, as the batch norm before it needs for
            // its fast backward kernel (a plain copy would send it channels-last: the generic kernel).
            return nn.functional.max_pool2d(LayoutSwitch.ToChannelsLast(input), PoolSize, Strides);
        }

        return nn.functional.max_pool2d(input, PoolSize, Strides);
    }
}
