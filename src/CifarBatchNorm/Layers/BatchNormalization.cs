using System.Diagnostics.CodeAnalysis;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Batch normalization (Ioffe and Szegedy 2015), Keras 3 <c>BatchNormalization</c> over the channel axis.
/// </summary>
/// <remarks>
/// <para>Training: <c>y = gamma * (x - mean_B) / sqrt(var_B + epsilon) + beta</c> with the batch mean and the biased
/// batch variance, and the moving statistics updated as <c>moving = moving * momentum + batch * (1 - momentum)</c>
/// with the same biased variance, as Keras 3 does for every input rank (tf.keras 2's fused kernel for 4-D inputs
/// applied Bessel's correction to the moving variance; TorchSharp's <c>BatchNorm2d</c> does too, so this layer
/// updates the statistics itself). Inference: the same formula with the moving statistics.</para>
/// <para>A layer with <see cref="Layer.Trainable"/> false runs in inference mode even in training, as in Keras 3
/// (fine-tuning keeps its statistics).</para>
/// <para>Keras's defaults: momentum 0.99, epsilon 1e-3, gamma 1, beta 0, moving mean 0, moving variance 1.
/// Works after Conv2D (4-D input, one statistic per channel) and after Dense (2-D input). A batch of one sample is
/// normalized as Keras does (its variance is 0 after Dense).</para>
/// </remarks>
public sealed class BatchNormalization : Layer
{
    private BatchNorm? _norm;

    /// <summary>Creates the layer.</summary>
    /// <param name="momentum">Keras momentum of the moving statistics, in [0, 1). The default value is 0.99.</param>
    /// <param name="epsilon">Added to the variance, positive. The default value is 1e-3.</param>
    /// <param name="center">Whether the layer has the offset <c>beta</c>. The default value is <c>true</c>.</param>
    /// <param name="scale">Whether the layer has the scale <c>gamma</c>. The default value is <c>true</c>.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>batch_normalization</c>, ...</param>
    public BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, bool center = true, bool scale = true, string? name = null) : base(name)
    {
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1) (Keras's default is 0.99).");
        }

        if (!(epsilon > 0 && double.IsFinite(epsilon)))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive and finite (Keras's default is 1e-3).");
        }

        Momentum = momentum;
        Epsilon = epsilon;
        Center = center;
        Scale = scale;
    }

    /// <summary>Keras momentum (weight of the old moving value).</summary>
    public double Momentum { get; }

    /// <summary>Variance epsilon.</summary>
    public double Epsilon { get; }

    /// <summary>Whether the layer has <c>beta</c>.</summary>
    public bool Center { get; }

    /// <summary>Whether the layer has <c>gamma</c>.</summary>
    public bool Scale { get; }

    /// <summary>The underlying TorchSharp BatchNorm1d/BatchNorm2d that holds the variables; available once built.</summary>
    public nn.Module<Tensor, Tensor> Normalization => Norm;

    /// <summary>Keras's <c>gamma</c> (the scale), or <c>null</c> without <see cref="Scale"/>.</summary>
    public Parameter? Gamma => Scale ? Norm.weight : null;

    /// <summary>Keras's <c>beta</c> (the offset), or <c>null</c> without <see cref="Center"/>.</summary>
    public Parameter? Beta => Center ? Norm.bias : null;

    /// <summary>Keras's <c>moving_mean</c>.</summary>
    public Tensor MovingMean => Norm.running_mean!;

    /// <summary>Keras's <c>moving_variance</c>.</summary>
    public Tensor MovingVariance => Norm.running_var!;

    private BatchNorm Norm => _norm ?? throw new InvalidOperationException($"BatchNormalization '{Name}' is not built yet.");

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape)
    {
        long features = inputShape.Features;
        // The module keeps the state-dict names of earlier versions (bn.weight, bn.bias, bn.running_mean,
        // bn.running_var, bn.num_batches_tracked); its momentum is unused (the layer updates the statistics).
        _norm = inputShape.Rank switch
        {
            3 => nn.BatchNorm2d(features, eps: Epsilon),
            1 => nn.BatchNorm1d(features, eps: Epsilon),
            _ => throw new ArgumentException($"BatchNormalization expects an image or flat input, got {inputShape}.", nameof(inputShape)),
        };
        register_module("bn", _norm);
        return inputShape;
    }

    /// <inheritdoc />
    /// <remarks>Without center/scale the variables stay at beta 0 / gamma 1 and are never trained.</remarks>
    protected internal override bool IsWeight(string name) =>
        name switch
        {
            "bn.bias" => Center,
            "bn.weight" => Scale,
            _ => true,
        };

    /// <summary>A channels-last input with fewer channels than this is normalized in NCHW (<see cref="LayoutPolicy.MinChannelsLastNormChannels"/>).</summary>
    internal int MinChannelsLastChannels { get; set; }

    /// <inheritdoc />
    protected internal override void ApplyLayout(LayoutPolicy layout) => MinChannelsLastChannels = layout.MinChannelsLastNormChannels;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        CheckRank(input, InputShape.Rank + 1);
        if (!training || !Trainable)
        {
            return nn.functional.batch_norm(input, MovingMean, MovingVariance, Norm.weight, Norm.bias, training: false, eps: Epsilon);
        }

        return ForwardTraining(input.dim() == 4 ? ChannelsFirstIfNarrow(input) : input);
    }

    /// <summary>
    /// Normalizes with the batch statistics (libtorch's fused kernel) and updates the moving statistics with the
    /// biased batch variance. The kernel is given scratch statistics with momentum 1, so it returns the batch mean and
    /// the unbiased variance in one pass; the biased one is that times (n - 1) / n.
    /// </summary>
    private Tensor ForwardTraining(Tensor input)
    {
        long count = input.numel() / input.shape[1];                   // values per channel: N (x H x W)
        if (count < 2)
        {
            return ForwardSingleValue(input);
        }

        using var batchMean = zeros_like(MovingMean);
        using var batchVariance = ones_like(MovingVariance);
        var output = nn.functional.batch_norm(input, batchMean, batchVariance, Norm.weight, Norm.bias, training: true, momentum: 1.0, eps: Epsilon);
        using (no_grad())
        {
            MovingMean.mul_(Momentum).add_(batchMean, alpha: 1 - Momentum);
            MovingVariance.mul_(Momentum).add_(batchVariance, alpha: (1 - Momentum) * (count - 1) / count);
            Norm.num_batches_tracked?.add_(1);
        }

        return output;
    }

    /// <summary>
    /// The layer's output for the input of the ReLU before it (<paramref name="reluBefore"/>: Conv2D or Dense with ReLU,
    /// then this layer) or with the ReLU after it applied (<paramref name="reluAfter"/>: this layer, then an Activation
    /// ReLU), through the fused kernels (<see cref="FusedBatchNorm"/>) where they apply: in training, trainable, a
    /// float32 CPU input in a layout they take, at least two values per channel; and in inference without gradients
    /// (one pass with the moving statistics, <see cref="FusedBatchNorm.Inference"/>). Elsewhere the same composition,
    /// unfused. <c>Sequential</c> calls it when its policy has <c>FusedKernels</c>.
    /// </summary>
    internal Tensor ForwardFused(Tensor input, bool reluBefore, bool reluAfter)
    {
        CheckRank(input, InputShape.Rank + 1);
        long count = input.numel() / input.shape[1];
        if (FusedInference && FusedBatchNorm.Supports(input))
        {
            var (scale, shift) = InferenceScaleShift();
            return FusedBatchNorm.Inference(input, scale, shift, reluBefore, reluAfter);
        }

        if (!training || !Trainable || count < 2 || !FusedBatchNorm.Supports(input))
        {
            var normalized = forward(reluBefore ? nn.functional.relu(input) : input);
            return reluAfter ? nn.functional.relu(normalized) : normalized;
        }

        var (output, mean, variance) = FusedBatchNorm.Forward(input, Norm.weight!, Norm.bias!, Epsilon, reluBefore, reluAfter);
        UpdateMovingStatistics(mean, variance);
        return output;
    }

    /// <summary>
    /// <see cref="ForwardFused"/> followed by <paramref name="pool"/>, as one fused step (<see cref="FusedBatchNormPool"/>)
    /// where it applies: in training (trainable) or in inference without gradients (with the moving statistics,
    /// <see cref="FusedBatchNormPool.Inference"/>), a 2x2 pool with stride 2 and no padding, a float32 CPU
    /// channels-last input with even height and width. Elsewhere returns <c>false</c> and does nothing: the caller
    /// runs the two stages. <c>Sequential</c> calls it when its policy has <c>FusedKernels</c>.
    /// </summary>
    /// <param name="input">The input of <see cref="ForwardFused"/>.</param>
    /// <param name="pool">The MaxPooling2D after this layer (and its ReLU).</param>
    /// <param name="reluBefore">Apply ReLU to the input first.</param>
    /// <param name="reluAfter">Apply ReLU to this layer's output.</param>
    /// <param name="output">The pooled output, when the fused step ran.</param>
    internal bool TryForwardFusedPool(Tensor input, MaxPooling2D pool, bool reluBefore, bool reluAfter, [NotNullWhen(true)] out Tensor? output)
    {
        CheckRank(input, InputShape.Rank + 1);
        if (FusedInference && pool.HalvesWithoutOverlap && FusedBatchNormPool.Supports(input))
        {
            var (scale, shift) = InferenceScaleShift();
            output = FusedBatchNormPool.Inference(input, scale, shift, reluBefore, reluAfter);
            return true;
        }

        if (!training || !Trainable || !pool.HalvesWithoutOverlap || !FusedBatchNormPool.Supports(input))
        {
            output = null;
            return false;
        }

        (output, var mean, var variance) = FusedBatchNormPool.Forward(input, Norm.weight!, Norm.bias!, Epsilon, reluBefore, reluAfter);
        UpdateMovingStatistics(mean, variance);
        return true;
    }

    /// <summary>Inference with the fused kernels: not training, and no gradient wanted (they have no backward in inference).</summary>
    private bool FusedInference => !training && !is_grad_enabled();

    /// <summary>
    /// Inference's per-channel <c>scale = gamma / sqrt(moving variance + epsilon)</c> and <c>shift = beta - moving mean *
    /// scale</c>, computed in double: Keras's <c>(x - mean) / sqrt(var + epsilon) * gamma + beta</c> as one multiply-add.
    /// </summary>
    private (float[] Scale, float[] Shift) InferenceScaleShift()
    {
        var gamma = FusedBatchNorm.Values(Norm.weight!);
        var beta = FusedBatchNorm.Values(Norm.bias!);
        var mean = FusedBatchNorm.Values(MovingMean);
        var variance = FusedBatchNorm.Values(MovingVariance);
        var scale = new float[gamma.Length];
        var shift = new float[gamma.Length];
        for (int c = 0; c < gamma.Length; c++)
        {
            double factor = gamma[c] / Math.Sqrt((double)variance[c] + Epsilon);
            scale[c] = (float)factor;
            shift[c] = (float)(beta[c] - mean[c] * factor);
        }

        return (scale, shift);
    }

    /// <summary>Keras's update of the moving statistics from the fused kernels' batch mean and biased batch variance.</summary>
    private void UpdateMovingStatistics(double[] mean, double[] variance)
    {
        using (no_grad())
        {
            using var batchMean = tensor(Array.ConvertAll(mean, m => (float)m));
            using var batchVariance = tensor(Array.ConvertAll(variance, v => (float)v));
            MovingMean.mul_(Momentum).add_(batchMean, alpha: 1 - Momentum);
            MovingVariance.mul_(Momentum).add_(batchVariance, alpha: 1 - Momentum);
            Norm.num_batches_tracked?.add_(1);
        }
    }

    /// <summary>One value per channel (a batch of one after Dense): its mean is itself and its variance 0, as in Keras.</summary>
    private Tensor ForwardSingleValue(Tensor input)
    {
        var centered = input - input.mean([0], keepdim: true);       // zeros, with the gradient Keras's formula has
        var output = centered * (1 / Math.Sqrt(Epsilon)) * Norm.weight! + Norm.bias!;
        using (no_grad())
        {
            MovingMean.mul_(Momentum).add_(input.detach().flatten(), alpha: 1 - Momentum);
            MovingVariance.mul_(Momentum);
            Norm.num_batches_tracked?.add_(1);
        }

        return output;
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
