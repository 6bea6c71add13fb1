using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// Adam (Kingma and Ba 2015) with Keras's update, which differs from PyTorch's in where epsilon goes:
/// <c>m = b1*m + (1-b1)*g</c>, <c>v = b2*v + (1-b2)*g^2</c>,
/// <c>alpha_t = lr * sqrt(1 - b2^t) / (1 - b1^t)</c>, <c>w -= alpha_t * m / (sqrt(v) + epsilon)</c>
/// (the paper's "epsilon hat" form). Defaults are Keras's.
/// </summary>
public sealed class Adam : Optimizer
{
    private Tensor[] _m = [];
    private Tensor[] _v = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size. The default value is 1e-3.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1). The default value is 0.9.</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1). The default value is 0.999.</param>
    /// <param name="epsilon">Added to sqrt(v), positive. The default value is 1e-7.</param>
    public Adam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7)
        : base(learningRate)
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
    }

    /// <summary>Decay of the first moment.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public double Beta2 { get; }

    /// <summary>Epsilon added to sqrt(v).</summary>
    public double Epsilon { get; }

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
        foreach (var t in _m.Concat(_v))
        {
            t.Dispose();
        }

        _m = Parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _v = Parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    /// <inheritdoc />
    public override void SaveState(BinaryWriter writer)
    {
        base.SaveState(writer);
        foreach (var slot in _m.Concat(_v))
        {
            slot.Save(writer);
        }
    }

    /// <inheritdoc />
    public override void LoadState(BinaryReader reader)
    {
        base.LoadState(reader);
        using var noGrad = no_grad();
        foreach (var slot in _m.Concat(_v))
        {
            using var saved = TensorExtensionMethods.Load(reader);
            if (!saved.shape.SequenceEqual(slot.shape))
            {
                throw new InvalidDataException($"optimizer state has a slot of shape [{string.Join(", ", saved.shape)}], the model needs [{string.Join(", ", slot.shape)}].");
            }

            slot.copy_(saved);
        }
    }

    /// <inheritdoc />
    protected override long SlotCount => _m.Concat(_v).Sum(t => t.numel());

    /// <inheritdoc />
    public override void Step()
    {
        EnsureBound();
        IsBuilt = true;
        Iterations++;
        double t = Iterations;
        double alpha = LearningRate * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Scalars hold native memory that only a finalizer frees unless disposed; made once per step, disposed here.
        using Scalar beta1 = Beta1, oneMinusBeta1 = 1 - Beta1, beta2 = Beta2, oneMinusBeta2 = 1 - Beta2;
        using Scalar epsilon = Epsilon, step = -alpha;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            var g = p.grad;
            if (g is null)
            {
                continue;
            }

            _m[i].mul_(beta1).add_(g, alpha: oneMinusBeta1);
            _v[i].mul_(beta2).addcmul_(g, g, value: oneMinusBeta2);
            var denominator = _v[i].sqrt().add_(epsilon);
            p.addcdiv_(_m[i], denominator, value: step);
        }
    }
}
