using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// Adam (Kingma and Ba 2015) with Keras's update, which differs from PyTorch's in where epsilon goes:
/// <c>m = b1*m + (1-b1)*g</c>, <c>v = b2*v + (1-b2)*g^2</c>,
/// <c>alpha_t = lr * sqrt(1 - b2^t) / (1 - b1^t)</c>, <c>w -= alpha_t * m / (sqrt(v) + epsilon)</c>
/// (the paper's "epsilon hat" form); with <see cref="AmsGrad"/>, <c>v_hat = max(v_hat, v)</c> stands for v (Reddi et
/// al. 2018). Defaults are Keras's. Decoupled weight decay makes it AdamW (see <see cref="AdamW"/>).
/// </summary>
public class Adam : Optimizer
{
    private Tensor[] _m = [];
    private Tensor[] _v = [];
    private Tensor[] _vHat = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size. The default value is 1e-3.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1). The default value is 0.9.</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1). The default value is 0.999.</param>
    /// <param name="epsilon">Added to sqrt(v), positive. The default value is 1e-7.</param>
    /// <param name="amsgrad">Use the AMSGrad variant. The default value is <c>false</c>.</param>
    /// <param name="options">Clipping and weight decay. The default value is none.</param>
    public Adam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false, OptimizerOptions? options = null)
        : base(learningRate, options)
    {
        CheckAndSet(beta1, beta2, epsilon, amsgrad);
    }

    /// <summary>Creates the optimizer with a learning-rate schedule.</summary>
    /// <param name="schedule">The learning rate per iteration.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1). The default value is 0.9.</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1). The default value is 0.999.</param>
    /// <param name="epsilon">Added to sqrt(v), positive. The default value is 1e-7.</param>
    /// <param name="amsgrad">Use the AMSGrad variant. The default value is <c>false</c>.</param>
    /// <param name="options">Clipping and weight decay. The default value is none.</param>
    public Adam(LearningRateSchedule schedule, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false, OptimizerOptions? options = null)
        : base(schedule, options)
    {
        CheckAndSet(beta1, beta2, epsilon, amsgrad);
    }

    private void CheckAndSet(double beta1, double beta2, double epsilon, bool amsgrad)
    {
        if (!(beta1 >= 0 && beta1 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        }

        if (!(beta2 >= 0 && beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        }

        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive.");
        }

        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        AmsGrad = amsgrad;
    }

    /// <summary>Whether the AMSGrad variant is used.</summary>
    public bool AmsGrad { get; private set; }

    /// <summary>Decay of the first moment.</summary>
    public double Beta1 { get; private set; }

    /// <summary>Decay of the second moment.</summary>
    public double Beta2 { get; private set; }

    /// <summary>Epsilon added to sqrt(v).</summary>
    public double Epsilon { get; private set; }

    /// <inheritdoc />
    public override string KerasName => "adam";

    /// <summary>First-moment estimates, one per parameter (for inspection and checkpoints).</summary>
    public IReadOnlyList<Tensor> FirstMoments => _m;

    /// <summary>Second-moment estimates, one per parameter.</summary>
    public IReadOnlyList<Tensor> SecondMoments => _v;

    /// <inheritdoc />
    public override void Bind(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        base.Bind(parameters);
        foreach (var t in Slots)
        {
            t.Dispose();
        }

        _m = Parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _v = Parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _vHat = AmsGrad ? Parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray() : [];
    }

    /// <inheritdoc />
    protected override IEnumerable<Tensor> Slots => _m.Concat(_v).Concat(_vHat);

    /// <inheritdoc />
    internal override IEnumerable<(int Parameter, Tensor Slot)> KerasSlots =>
        _m.SelectMany((m, i) => new[] { (i, m), (i, _v[i]) }).Concat(_vHat.Select((v, i) => (i, v)));

    /// <inheritdoc />
    protected override void UpdateStep(IReadOnlyList<Tensor?> gradients, double learningRate)
    {
        double t = Iterations + 1;
        double alpha = learningRate * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t));
        // Scalars hold native memory that only a finalizer frees unless disposed; made once per step, disposed here.
        using Scalar beta1 = Beta1, oneMinusBeta1 = 1 - Beta1, beta2 = Beta2, oneMinusBeta2 = 1 - Beta2;
        using Scalar epsilon = Epsilon, step = -alpha;
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (gradients[i] is not { } g)
            {
                continue;
            }

            if (FusedUpdate && !AmsGrad && AdamKernel.Supports(Parameters[i], g, _m[i], _v[i]))
            {
                AdamKernel.Update(Parameters[i], g, _m[i], _v[i], Beta1, Beta2, Epsilon, -alpha);
                continue;
            }

            _m[i].mul_(beta1).add_(g, alpha: oneMinusBeta1);
            _v[i].mul_(beta2).addcmul_(g, g, value: oneMinusBeta2);
            var v = _v[i];
            if (AmsGrad)
            {
                _vHat[i].copy_(maximum(_vHat[i], _v[i]));
                v = _vHat[i];
            }

            var denominator = v.sqrt().add_(epsilon);
            Parameters[i].addcdiv_(_m[i], denominator, value: step);
        }
    }
}
