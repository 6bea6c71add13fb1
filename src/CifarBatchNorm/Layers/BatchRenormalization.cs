using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Batch Renormalization (Ioffe 2017, arXiv 1702.03275), like Keras's <c>BatchNormalization(renorm=True)</c>.
/// </summary>
/// <remarks>
/// <para>Training: with the batch mean <c>mu_B</c>, the biased batch variance <c>var_B</c>,
/// <c>sigma_B = sqrt(var_B + epsilon)</c> and the renorm moving statistics <c>mu</c>, <c>sigma</c>:
/// <c>r = clip(sigma_B / sigma, rmin, rmax)</c>, <c>d = clip((mu_B - mu) / sigma, -dmax, dmax)</c>, both treated as
/// constants (no gradient), and <c>y = gamma * ((x - mu_B) / sigma_B * r + d) + beta</c>. With rmax = 1 and
/// dmax = 0 this is exactly batch normalization.</para>
/// <para>After each training step (no gradient): <c>mu = mu * rm + mu_B * (1 - rm)</c> and
/// <c>sigma = sigma * rm + sigma_B * (1 - rm)</c> with the renorm momentum <c>rm</c>; the inference statistics follow
/// Keras's BN rule <c>moving_mean = moving_mean * m + mu_B * (1 - m)</c>,
/// <c>moving_variance = moving_variance * m + var_B * (1 - m)</c>. r and d use the renorm statistics as they were
/// before the update.</para>
/// <para>Inference: exactly BN with the moving statistics, <c>gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta</c>.</para>
/// <para>Works after Conv2D (4-D input, statistics per channel) and after Dense (2-D input).</para>
/// </remarks>
public sealed class BatchRenormalization : Layer
{
    private Parameter? _gamma;
    private Parameter? _beta;
    private Tensor? _movingMean;
    private Tensor? _movingVariance;
    private Tensor? _renormMean;
    private Tensor? _renormStddev;
    private Tensor? _steps;

    /// <summary>Creates the layer.</summary>
    /// <param name="momentum">Keras momentum of the inference statistics, in [0, 1). The default value is 0.99.</param>
    /// <param name="epsilon">Added to the variance, positive. The default value is 1e-3.</param>
    /// <param name="renormMomentum">Momentum of the renorm statistics used for r and d, in [0, 1). The default value is 0.99.</param>
    /// <param name="clipping">Limits of r and d; <c>null</c> (the default) is the paper's schedule (<see cref="RenormClipping.Schedule"/>).</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>batch_renormalization</c>, ...</param>
    public BatchRenormalization(double momentum = 0.99, double epsilon = 1e-3, double renormMomentum = 0.99,
        RenormClipping? clipping = null, string? name = null) : base(name)
    {
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1) (Keras's default is 0.99).");
        }

        if (!(renormMomentum >= 0 && renormMomentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(renormMomentum), renormMomentum, "renormMomentum must be in [0, 1) (the default is 0.99).");
        }

        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive (Keras's default is 1e-3).");
        }

        Momentum = momentum;
        Epsilon = epsilon;
        RenormMomentum = renormMomentum;
        Clipping = clipping ?? RenormClipping.Schedule();
    }

    /// <summary>Momentum of the inference statistics.</summary>
    public double Momentum { get; }

    /// <summary>Variance epsilon.</summary>
    public double Epsilon { get; }

    /// <summary>Momentum of the renorm statistics.</summary>
    public double RenormMomentum { get; }

    /// <summary>The clipping of r and d.</summary>
    public RenormClipping Clipping { get; }

    /// <summary>Training steps taken (saved with the weights).</summary>
    public long Steps => Buffer(_steps).item<long>();

    /// <summary>rmax in force for the next training step.</summary>
    public double CurrentRMax => Clipping.RMax(Steps);

    /// <summary>dmax in force for the next training step.</summary>
    public double CurrentDMax => Clipping.DMax(Steps);

    /// <summary>Scale, one per feature.</summary>
    public Parameter Gamma => _gamma ?? throw NotBuiltYet();

    /// <summary>Offset, one per feature.</summary>
    public Parameter Beta => _beta ?? throw NotBuiltYet();

    /// <summary>Inference mean, one per feature.</summary>
    public Tensor MovingMean => Buffer(_movingMean);

    /// <summary>Inference variance, one per feature.</summary>
    public Tensor MovingVariance => Buffer(_movingVariance);

    /// <summary>Renorm mean mu used for d.</summary>
    public Tensor RenormMean => Buffer(_renormMean);

    /// <summary>Renorm standard deviation sigma used for r and d.</summary>
    public Tensor RenormStddev => Buffer(_renormStddev);

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape)
    {
        if (inputShape.Rank is not (1 or 3))
        {
            throw new ArgumentException($"BatchRenormalization expects an image or flat input, got {inputShape}.", nameof(inputShape));
        }

        long features = inputShape.Features;
        _gamma = new Parameter(ones(features));
        _beta = new Parameter(zeros(features));
        _movingMean = zeros(features);
        _movingVariance = ones(features);
        _renormMean = zeros(features);
        _renormStddev = ones(features);
        _steps = zeros(1, ScalarType.Int64);
        register_parameter("gamma", _gamma);
        register_parameter("beta", _beta);
        register_buffer("moving_mean", _movingMean);
        register_buffer("moving_variance", _movingVariance);
        register_buffer("renorm_mean", _renormMean);
        register_buffer("renorm_stddev", _renormStddev);
        register_buffer("steps", _steps);
        return inputShape;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        CheckRank(input, InputShape.Rank + 1);
        long[] reduce = input.dim() == 4 ? [0, 2, 3] : [0];
        long[] view = input.dim() == 4 ? [1, -1, 1, 1] : [1, -1];
        var gamma = Gamma.view(view);
        var beta = Beta.view(view);
        if (!training)
        {
            var scale = (MovingVariance + Epsilon).rsqrt().view(view);
            return ((input - MovingMean.view(view)) * scale * gamma) + beta;
        }

        var mean = input.mean(reduce, keepdim: true);
        var variance = (input - mean).square().mean(reduce, keepdim: true);   // biased, as Keras
        var sigma = (variance + Epsilon).sqrt();
        Tensor r, d;
        long step = Steps;
        using (no_grad())
        {
            var renormSigma = RenormStddev.view(view);
            r = (sigma / renormSigma).clamp(Clipping.RMin(step), Clipping.RMax(step)).detach();
            d = ((mean - RenormMean.view(view)) / renormSigma).clamp(-Clipping.DMax(step), Clipping.DMax(step)).detach();
            UpdateStatistics(mean.flatten(), variance.flatten(), sigma.flatten());
        }

        return (gamma * ((((input - mean) / sigma) * r) + d)) + beta;
    }

    private void UpdateStatistics(Tensor mean, Tensor variance, Tensor sigma)
    {
        RenormMean.mul_(RenormMomentum).add_(mean, alpha: 1 - RenormMomentum);
        RenormStddev.mul_(RenormMomentum).add_(sigma, alpha: 1 - RenormMomentum);
        MovingMean.mul_(Momentum).add_(mean, alpha: 1 - Momentum);
        MovingVariance.mul_(Momentum).add_(variance, alpha: 1 - Momentum);
        Buffer(_steps).add_(1);
    }

    private Tensor Buffer(Tensor? buffer) => buffer ?? throw NotBuiltYet();

    private InvalidOperationException NotBuiltYet() => new($"BatchRenormalization '{Name}' is not built yet.");
}
