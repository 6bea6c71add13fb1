using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Santurkar et al. 2018 ("How does batch normalization help optimization?", arXiv 1805.11604), section 3.1:
/// at a training step with weights w and gradient g on a probe batch, evaluates the loss and its gradient at
/// w - eta*g for each step size eta and records the loss variation (range of the losses), the gradient
/// predictiveness (||grad L(w) - grad L(w - eta g)||) and the effective beta-smoothness (max of that change
/// over ||eta g||). The model is in training mode, as during training; nothing about the run changes.
/// </summary>
internal sealed class LandscapeProbe : ProbeCallback
{
    private readonly List<LandscapePoint> _points = [];

    /// <summary>Creates the probe.</summary>
    /// <param name="images">Probe images (B, C, H, W).</param>
    /// <param name="labels">Probe labels (B).</param>
    /// <param name="every">Probe every N steps. The default value is 50.</param>
    /// <param name="stepSizes">The step sizes eta, positive. The default value is 0.05, 0.1, ..., 0.4 (the paper's range).</param>
    public LandscapeProbe(Tensor images, Tensor labels, int every = 50, IReadOnlyList<double>? stepSizes = null)
        : base(images, labels, every)
    {
        StepSizes = stepSizes ?? Enumerable.Range(1, 8).Select(i => i * 0.05).ToArray();
        if (StepSizes.Count == 0 || StepSizes.Any(s => !(s > 0)))
        {
            throw new ArgumentOutOfRangeException(nameof(stepSizes), "step sizes must be positive, and at least one is needed.");
        }
    }

    /// <summary>The step sizes eta.</summary>
    public IReadOnlyList<double> StepSizes { get; }

    /// <summary>The probes taken so far.</summary>
    public IReadOnlyList<LandscapePoint> Points => _points;

    /// <inheritdoc />
    protected override void Measure(Sequential model, int step)
    {
        var parameters = model.parameters().Where(p => p.requires_grad).ToArray();
        Tensor[] start;
        using (no_grad())
        {
            start = parameters.Select(p => p.detach().clone()).ToArray();
        }

        var (loss0, grad0) = LossAndGradient(model, parameters);
        double gradNorm = grad0.norm().item<float>();
        var losses = new List<double> { loss0 };
        double changeMin = double.PositiveInfinity, changeMax = 0, beta = 0;
        foreach (double eta in StepSizes)
        {
            using (no_grad())
            {
                int offset = 0;
                for (int i = 0; i < parameters.Length; i++)
                {
                    long n = parameters[i].numel();
                    parameters[i].copy_(start[i] - (eta * grad0.narrow(0, offset, n).view_as(parameters[i])));
                    offset += (int)n;
                }
            }

            var (loss, grad) = LossAndGradient(model, parameters);
            double change = (grad - grad0).norm().item<float>();
            losses.Add(loss);
            changeMin = Math.Min(changeMin, change);
            changeMax = Math.Max(changeMax, change);
            if (gradNorm > 0)
            {
                beta = Math.Max(beta, change / (eta * gradNorm));
            }
        }

        _points.Add(new LandscapePoint(step, loss0, losses.Min(), losses.Max(), changeMin, changeMax, beta, gradNorm));
    }

    /// <summary>Loss on the probe batch in training mode and its gradient, flattened over all trainable parameters.</summary>
    private (double Loss, Tensor Gradient) LossAndGradient(Sequential model, IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
    {
        model.train();
        foreach (var p in parameters)
        {
            p.grad?.zero_();
        }

        var trainer = model.Trainer ?? throw new InvalidOperationException("The probed model is not compiled: probes measure the loss it trains on.");
        var loss = trainer.ComputeLoss(model.ForwardLogits(Images), Labels);
        loss.backward();
        var gradient = cat(parameters.Select(p => (p.grad ?? zeros_like(p)).flatten()).ToArray(), 0).detach().clone();
        return (loss.item<float>(), gradient);
    }
}
