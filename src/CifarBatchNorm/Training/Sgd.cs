using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// Keras 3 <c>SGD</c>: without momentum <c>w -= lr * g</c>; with momentum <c>m = momentum * m - lr * g</c>, then
/// <c>w += m</c>, or with Nesterov <c>w += momentum * m - lr * g</c>. (PyTorch's SGD keeps <c>m</c> without the learning
/// rate; the two agree only for a constant learning rate.)
/// </summary>
public sealed class Sgd : Optimizer
{
    private Tensor[] _m = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size. The default value is 0.01 (Keras's).</param>
    /// <param name="momentum">Momentum, in [0, 1]. The default value is 0.</param>
    /// <param name="nesterov">Nesterov momentum. The default value is <c>false</c>.</param>
    /// <param name="options">Clipping and weight decay. The default value is none.</param>
    public Sgd(double learningRate = 0.01, double momentum = 0, bool nesterov = false, OptimizerOptions? options = null)
        : base(learningRate, options)
    {
        Momentum = CheckMomentum(momentum);
        Nesterov = nesterov;
    }

    /// <summary>Creates the optimizer with a learning-rate schedule.</summary>
    /// <param name="schedule">The learning rate per iteration.</param>
    /// <param name="momentum">Momentum, in [0, 1]. The default value is 0.</param>
    /// <param name="nesterov">Nesterov momentum. The default value is <c>false</c>.</param>
    /// <param name="options">Clipping and weight decay. The default value is none.</param>
    public Sgd(LearningRateSchedule schedule, double momentum = 0, bool nesterov = false, OptimizerOptions? options = null)
        : base(schedule, options)
    {
        Momentum = CheckMomentum(momentum);
        Nesterov = nesterov;
    }

    // Keras 3 sgd.py: `momentum < 0 or momentum > 1` raises, so 1 is accepted.
    private static double CheckMomentum(double momentum) => momentum is >= 0 and <= 1
        ? momentum
        : throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1].");

    /// <summary>Momentum.</summary>
    public double Momentum { get; }

    /// <summary>Whether the momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    public override string KerasName => "sgd";

    /// <inheritdoc />
    protected override IEnumerable<Tensor> Slots => _m;

    /// <inheritdoc />
    internal override IEnumerable<(int Parameter, Tensor Slot)> KerasSlots => _m.Select((m, i) => (i, m));

    /// <inheritdoc />
    public override void Bind(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        base.Bind(parameters);
        foreach (var t in _m)
        {
            t.Dispose();
        }

        _m = Momentum > 0 ? Parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray() : [];
    }

    /// <inheritdoc />
    protected override void UpdateStep(IReadOnlyList<Tensor?> gradients, double learningRate)
    {
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (gradients[i] is not { } g)
            {
                continue;
            }

            var p = Parameters[i];
            if (Momentum == 0)
            {
                p.add_(g, alpha: -learningRate);
                continue;
            }

            _m[i].mul_(Momentum).add_(g, alpha: -learningRate);
            if (Nesterov)
            {
                p.add_(_m[i], alpha: Momentum).add_(g, alpha: -learningRate);
            }
            else
            {
                p.add_(_m[i]);
            }
        }
    }
}
