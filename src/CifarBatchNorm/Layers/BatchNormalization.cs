using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Batch normalization (Ioffe and Szegedy 2015), Keras <c>BatchNormalization</c> over the channel axis.
/// </summary>
/// <remarks>
/// <para>Training: <c>y = gamma * (x - mean_B) / sqrt(var_B + epsilon) + beta</c> with the batch mean and biased
/// batch variance, and the moving statistics updated as <c>moving = moving * momentum + batch * (1 - momentum)</c>.
/// Inference: the same formula with the moving statistics.</para>
/// <para>Keras's defaults: momentum 0.99, epsilon 1e-3, gamma 1, beta 0, moving mean 0, moving variance 1.
/// TorchSharp's <c>momentum</c> is the weight of the new value, so this layer passes <c>1 - momentum</c>.</para>
/// <para>Works after Conv2D (4-D input, one statistic per channel) and after Dense (2-D input).</para>
/// </remarks>
public sealed class BatchNormalization : Layer
{
    private nn.Module<Tensor, Tensor>? _norm;

    /// <summary>Creates the layer.</summary>
    /// <param name="momentum">Keras momentum of the moving statistics, in [0, 1). The default value is 0.99.</param>
    /// <param name="epsilon">Added to the variance, positive. The default value is 1e-3.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>batch_normalization</c>, ...</param>
    public BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, string? name = null) : base(name)
    {
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1) (Keras's default is 0.99).");
        }

        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive (Keras's default is 1e-3).");
        }

        Momentum = momentum;
        Epsilon = epsilon;
    }

    /// <summary>Keras momentum (weight of the old moving value).</summary>
    public double Momentum { get; }

    /// <summary>Variance epsilon.</summary>
    public double Epsilon { get; }

    /// <summary>The underlying TorchSharp BatchNorm1d/BatchNorm2d; available once built.</summary>
    public nn.Module<Tensor, Tensor> Normalization => _norm ?? throw new InvalidOperationException($"BatchNormalization '{Name}' is not built yet.");

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape)
    {
        long features = inputShape.Features;
        _norm = inputShape.Rank switch
        {
            3 => nn.BatchNorm2d(features, eps: Epsilon, momentum: 1 - Momentum),
            1 => nn.BatchNorm1d(features, eps: Epsilon, momentum: 1 - Momentum),
            _ => throw new ArgumentException($"BatchNormalization expects an image or flat input, got {inputShape}.", nameof(inputShape)),
        };
        register_module("bn", _norm);
        return inputShape;
    }

    /// <summary>A channels-last input with fewer channels than this is normalized in NCHW (<see cref="LayoutPolicy.MinChannelsLastNormChannels"/>).</summary>
    internal int MinChannelsLastChannels { get; set; }

    /// <inheritdoc />
    protected internal override void ApplyLayout(LayoutPolicy layout) => MinChannelsLastChannels = layout.MinChannelsLastNormChannels;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        CheckRank(input, InputShape.Rank + 1);
        return Normalization.call(training && input.dim() == 4 ? ChannelsFirstIfNarrow(input) : input);
    }

    /// <summary>
    /// libtorch's channels-last batch-norm kernels vectorize across channels: faster than the NCHW ones on wide
    /// tensors, slower on narrow ones (docs/performance.md). A narrow channels-last input is therefore normalized in
    /// NCHW (in the notebook model this does not happen: channels-last starts after the first pooling, where the
    /// convolutions have 16 filters).
    /// </summary>
    private Tensor ChannelsFirstIfNarrow(Tensor input) =>
        input.shape[1] < MinChannelsLastChannels && input.device_type == DeviceType.CPU && !input.is_contiguous() ? input.contiguous() : input;
}
