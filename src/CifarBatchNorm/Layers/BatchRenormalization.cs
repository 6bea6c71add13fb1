using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Batch renormalization (Ioffe 2017, arXiv 1702.03275), Keras 3's <c>BatchNormalization(renorm=True)</c> over
/// the channel axis: batch normalization whose training output is corrected towards the moving statistics.
/// </summary>
/// <remarks>
/// <para>Training, per channel, with the batch mean <c>mu_B</c>, the biased batch variance <c>var_B</c> and
/// <c>sigma_B = sqrt(var_B + epsilon)</c>:
/// <c>r = clip(sigma_B / sigma, rmin, rmax)</c>, <c>d = clip((mu_B - mu) / sigma, -dmax, dmax)</c> and
/// <c>y = gamma * (((x - mu_B) / sigma_B) * r + d) + beta</c>, where <c>mu</c> = <c>renorm_mean</c> and
/// <c>sigma = max(renorm_stddev, sqrt(epsilon))</c> are taken before this step's update, as in Keras.
/// <c>r</c> and <c>d</c> are constants to autograd (computed from detached values under <c>no_grad</c>), so
/// gradients flow through <c>mu_B</c> and <c>sigma_B</c> as in batch normalization, with <c>r</c> a fixed scale and
/// <c>d</c> a fixed shift.
/// The bounds come from <see cref="Clipping"/> at <see cref="Steps"/>, the number of training steps taken before
/// this one; Keras's default is no clipping (<see cref="RenormClipping.None"/>). A step-dependent schedule
/// (<see cref="RenormClipping.Schedule"/>, the paper's) is this library's addition.</para>
/// <para>After the output, without gradient, as Keras 3 does (<c>_update_renorm_statistics</c>):
/// <c>renorm_mean = renorm_mean * renormMomentum + mu_B * (1 - renormMomentum)</c>,
/// <c>renorm_stddev = renorm_stddev * renormMomentum + sigma_B * (1 - renormMomentum)</c>,
/// <c>moving_mean = moving_mean * momentum + mu_B * (1 - momentum)</c>,
/// <c>moving_stddev = moving_stddev * momentum + sigma_B * (1 - momentum)</c> and
/// <c>moving_variance = max(moving_stddev^2 - epsilon, 0)</c>; the step counter goes up by one.</para>
/// <para>Inference is plain batch normalization with the moving statistics:
/// <c>y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta</c>.</para>
/// <para>Initial values: gamma 1, beta 0, moving_mean 0, moving_variance 1, moving_stddev 1, renorm_mean 0,
/// renorm_stddev 1 (Keras's <c>sqrt</c> of the moving variance initializer), step 0. Five non-trainable weights per
/// channel, as Keras counts them. All are registered with the module, so
/// <c>save</c>/<c>load</c> carry them. Works after Conv2D (4-D input, one statistic per channel) and after Dense
/// (2-D input).</para>
/// </remarks>
public sealed class BatchRenormalization : Layer
{
    [ComponentName(Name = "gamma")]
    private Parameter? _gamma;

    [ComponentName(Name = "beta")]
    private Parameter? _beta;

    [ComponentName(Name = "moving_mean")]
    private Tensor? _movingMean;

    [ComponentName(Name = "moving_variance")]
    private Tensor? _movingVariance;

    [ComponentName(Name = "moving_stddev")]
    private Tensor? _movingStddev;

    [ComponentName(Name = "renorm_mean")]
    private Tensor? _renormMean;

    [ComponentName(Name = "renorm_stddev")]
    private Tensor? _renormStddev;

    [ComponentName(Name = "step")]
    private Tensor? _step;

    /// <summary>Creates the layer.</summary>
    /// <param name="momentum">Keras momentum of the inference statistics (weight of the old value), in [0, 1). The default value is 0.99.</param>
    /// <param name="epsilon">Added to the variance, positive. The default value is 1e-3.</param>
    /// <param name="renormMomentum">Momentum of the renorm mean and standard deviation that <c>r</c> and <c>d</c> use, in [0, 1). The default value is 0.99.</param>
    /// <param name="clipping">Bounds of <c>r</c> and <c>d</c>. The default value (<c>null</c>) is <see cref="RenormClipping.None"/>, Keras's default.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>batch_renormalization</c>, ...</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public BatchRenormalization(double momentum = 0.99, double epsilon = 1e-3, double renormMomentum = 0.99, RenormClipping? clipping = null, string? name = null)
        : base(name)
    {
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1) (Keras's default is 0.99).");
        }

        if (!(epsilon > 0 && double.IsFinite(epsilon)))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive and finite (Keras's default is 1e-3).");
        }

        if (!(renormMomentum >= 0 && renormMomentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(renormMomentum), renormMomentum, "renormMomentum must be in [0, 1) (Keras's default is 0.99).");
        }

        Momentum = momentum;
        Epsilon = epsilon;
        RenormMomentum = renormMomentum;
        Clipping = clipping ?? RenormClipping.None;
    }

    /// <inheritdoc />
    public override string KerasType => "BatchRenormalization";

    /// <summary>Keras momentum of <c>moving_mean</c> and <c>moving_variance</c> (weight of the old value).</summary>
    public double Momentum { get; }

    /// <summary>Variance epsilon.</summary>
    public double Epsilon { get; }

    /// <summary>Momentum of <c>renorm_mean</c> and <c>renorm_stddev</c> (weight of the old value).</summary>
    public double RenormMomentum { get; }

    /// <summary>Bounds of <c>r</c> and <c>d</c>.</summary>
    public RenormClipping Clipping { get; }

    /// <summary>Training steps (forward calls in training mode) taken so far; 0 before the layer is built.</summary>
    public long Steps => _step is null ? 0 : _step.item<long>();

    /// <summary>The bound <c>rmax</c> the next training step uses.</summary>
    public double CurrentRMax => Clipping.RMaxAt(Steps);

    /// <summary>The bound <c>rmin</c> the next training step uses.</summary>
    public double CurrentRMin => Clipping.RMinAt(Steps);

    /// <summary>The bound <c>dmax</c> the next training step uses.</summary>
    public double CurrentDMax => Clipping.DMaxAt(Steps);

    internal Parameter Gamma => _gamma ?? throw NotBuiltYet();

    internal Parameter Beta => _beta ?? throw NotBuiltYet();

    internal Tensor MovingMean => _movingMean ?? throw NotBuiltYet();

    internal Tensor MovingVariance => _movingVariance ?? throw NotBuiltYet();

    internal Tensor MovingStddev => _movingStddev ?? throw NotBuiltYet();

    internal Tensor RenormMean => _renormMean ?? throw NotBuiltYet();

    internal Tensor RenormStddev => _renormStddev ?? throw NotBuiltYet();

    internal Tensor StepCounter => _step ?? throw NotBuiltYet();

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape)
    {
        if (inputShape.Rank is not (1 or 3))
        {
            throw new ArgumentException($"BatchRenormalization expects an image or flat input, got {inputShape}.", nameof(inputShape));
        }

        // The layer owns its state: a dispose scope open around Build must not free it.
        long features = inputShape.Features;
        _gamma = new Parameter(ones(features).DetachFromDisposeScope());
        _beta = new Parameter(zeros(features).DetachFromDisposeScope());
        _movingMean = zeros(features).DetachFromDisposeScope();
        _movingVariance = ones(features).DetachFromDisposeScope();
        _movingStddev = ones(features).DetachFromDisposeScope();
        _renormMean = zeros(features).DetachFromDisposeScope();
        _renormStddev = ones(features).DetachFromDisposeScope();
        _step = zeros(1, ScalarType.Int64).DetachFromDisposeScope();
        register_parameter("gamma", _gamma);
        register_parameter("beta", _beta);
        register_buffer("moving_mean", _movingMean);
        register_buffer("moving_variance", _movingVariance);
        register_buffer("moving_stddev", _movingStddev);
        register_buffer("renorm_mean", _renormMean);
        register_buffer("renorm_stddev", _renormStddev);
        register_buffer("step", _step);
        return inputShape;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        CheckRank(input, InputShape.Rank + 1);
        using var scope = NewDisposeScope();
        // Keras 3 (batch_normalization.py, call: `if training and self.trainable`): a frozen layer runs in inference
        // mode, renorm included, so Fit neither uses batch statistics nor moves the moving ones.
        var output = training && Trainable ? ForwardTraining(input) : ForwardInference(input);
        return output.MoveToOuterDisposeScope();
    }

    private Tensor ForwardInference(Tensor input)
    {
        long[] shape = BroadcastShape(input);
        var invStd = MovingVariance.add(Epsilon).rsqrt().view(shape);
        return input.sub(MovingMean.view(shape)).mul(invStd).mul(Gamma.view(shape)).add(Beta.view(shape));
    }

    private Tensor ForwardTraining(Tensor input)
    {
        long[] shape = BroadcastShape(input);
        long[] reduce = input.dim() == 4 ? [0, 2, 3] : [0];
        var batchMean = input.mean(reduce, keepdim: true);                               // (1, C, 1, 1) or (1, C)
        var batchVariance = input.var(reduce, unbiased: false, keepdim: true);
        var batchStddev = batchVariance.add(Epsilon).sqrt();
        var normalized = input.sub(batchMean).div(batchStddev);

        var (r, d) = Corrections(batchMean.detach(), batchStddev.detach(), shape);
        var output = normalized.mul(r).add(d).mul(Gamma.view(shape)).add(Beta.view(shape));

        UpdateStatistics(batchMean.detach().flatten(), batchStddev.detach().flatten());
        return output;
    }

    // r and d use the renorm statistics from before this step's update, as Keras does.
    private (Tensor R, Tensor D) Corrections(Tensor batchMean, Tensor batchStddev, long[] shape)
    {
        using var noGrad = no_grad();
        long step = Steps;
        var sigma = RenormStddev.clamp_min(Math.Sqrt(Epsilon)).view(shape);
        var r = batchStddev.div(sigma).clamp(Clipping.RMinAt(step), Clipping.RMaxAt(step));
        double dmax = Clipping.DMaxAt(step);
        var d = batchMean.sub(RenormMean.view(shape)).div(sigma).clamp(-dmax, dmax);
        return (r, d);
    }

    private void UpdateStatistics(Tensor batchMean, Tensor batchStddev)
    {
        using var noGrad = no_grad();
        MovingMean.mul_(Momentum).add_(batchMean, alpha: 1 - Momentum);
        MovingStddev.mul_(Momentum).add_(batchStddev, alpha: 1 - Momentum);
        MovingVariance.copy_(MovingStddev.square().sub_(Epsilon).relu_());
        RenormMean.mul_(RenormMomentum).add_(batchMean, alpha: 1 - RenormMomentum);
        RenormStddev.mul_(RenormMomentum).add_(batchStddev, alpha: 1 - RenormMomentum);
        StepCounter.add_(1);
    }

    // Per-channel vectors broadcast against (N, C, H, W) as (1, C, 1, 1) and against (N, C) as (1, C).
    private static long[] BroadcastShape(Tensor input) =>
        input.dim() == 4 ? [1, input.shape[1], 1, 1] : [1, input.shape[1]];

    private InvalidOperationException NotBuiltYet() => new($"BatchRenormalization '{Name}' is not built yet.");
}
