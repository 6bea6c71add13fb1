using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// The "internal covariate shift" measure of Santurkar et al. 2018 (arXiv 1805.11604, section 2): for layer i at step
/// t, G = the gradient of the loss with respect to layer i's weights with every layer at its weights before the
/// step, and G' = the same gradient after the layers before i (only those) have taken the step's update. A layer
/// whose input distribution shifts when earlier layers change sees G' differ from G; the paper reports
/// ||G - G'|| and cos(G, G') for networks with and without BN. Measured on the fixed probe batch in training mode
/// (BN uses batch statistics, as in the step), with the update the optimizer actually made at step t, for every
/// Conv2D and Dense layer (kernel and bias together). The first layer has no earlier layers, so its G' = G.
/// </summary>
internal sealed class GradientShiftProbe : ProbeCallback
{
    private readonly List<IcsPoint> _points = [];
    private Tensor[][]? _before;

    /// <summary>Creates the probe.</summary>
    /// <param name="images">Probe images (B, C, H, W).</param>
    /// <param name="labels">Probe labels (B).</param>
    /// <param name="every">Measure every N steps. The default value is 50.</param>
    public GradientShiftProbe(Tensor images, Tensor labels, int every = 50) : base(images, labels, every)
    {
    }

    /// <summary>The measurements so far.</summary>
    public IReadOnlyList<IcsPoint> Points => _points;

    /// <inheritdoc />
    protected override void BeforeProbedStep(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Release();
        _before = Snapshot(model);
    }

    /// <inheritdoc />
    protected override void Measure(Sequential model, int step)
    {
        if (_before is null)
        {
            return;
        }

        var after = Snapshot(model);
        try
        {
            _points.AddRange(Shift(model, _before, after, Images, Labels, step));
        }
        finally
        {
            foreach (var t in after.SelectMany(a => a))
            {
                t.Dispose();
            }

            Release();
        }
    }

    /// <summary>
    /// The measure for weights <paramref name="before"/> and <paramref name="after"/> an update (per layer of
    /// <paramref name="model"/>, its parameters in order): one point per Conv2D and Dense layer. Leaves the model's
    /// weights at <paramref name="before"/>.
    /// </summary>
    internal static IReadOnlyList<IcsPoint> Shift(Sequential model, Tensor[][] before, Tensor[][] after, Tensor images, Tensor labels, int step)
    {
        var trainer = model.Trainer ?? throw new InvalidOperationException("The probed model is not compiled: probes measure the loss it trains on.");
        model.train();
        var layers = model.Layers;
        var points = new List<IcsPoint>();
        Tensor[]? g = null;
        int weighted = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not (Conv2D or Dense))
            {
                continue;
            }

            g ??= Gradients(model, trainer, before, before, layers.Count, images, labels);   // every layer at W(t)
            var shifted = Gradients(model, trainer, after, before, i, images, labels);          // layers < i at W(t+1)
            using var scope = NewDisposeScope();
            var gi = g[i];
            var gs = shifted[i];
            double norm = gi.norm().item<float>();
            double change = (gi - gs).norm().item<float>();
            double normShifted = gs.norm().item<float>();
            double cosine = norm > 0 && normShifted > 0 ? (gi * gs).sum().item<float>() / (norm * normShifted) : 1;
            points.Add(new IcsPoint(step, weighted++, layers[i].Name ?? "?", change, norm > 0 ? change / norm : 0, cosine));
        }

        Load(model, before, before, layers.Count);
        return points;
    }

    /// <summary>Per layer, the flattened gradient of its parameters (an empty tensor for layers without) with layers &lt; split at <paramref name="early"/> and the rest at <paramref name="late"/>.</summary>
    private static Tensor[] Gradients(Sequential model, Trainer trainer, Tensor[][] early, Tensor[][] late, int split, Tensor images, Tensor labels)
    {
        Load(model, early, late, split);
        foreach (var p in model.parameters())
        {
            p.grad?.zero_();
        }

        var loss = trainer.ComputeLoss(model.ForwardLogits(images), labels);
        loss.backward();
        return model.Layers.Select(layer =>
        {
            var grads = layer.parameters().Where(p => p.requires_grad).Select(p => (p.grad ?? zeros_like(p)).flatten()).ToArray();
            return grads.Length == 0 ? zeros(0) : cat(grads, 0).detach().clone();
        }).ToArray();
    }

    private static void Load(Sequential model, Tensor[][] early, Tensor[][] late, int split)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var source = i < split ? early[i] : late[i];
            int k = 0;
            foreach (var p in model.Layers[i].parameters())
            {
                p.copy_(source[k++]);
            }
        }
    }

    /// <summary>Copies of every layer's parameters, layer by layer.</summary>
    internal static Tensor[][] Snapshot(Sequential model)
    {
        using var noGrad = no_grad();
        return model.Layers.Select(l => l.parameters().Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray()).ToArray();
    }

    private void Release()
    {
        foreach (var t in _before?.SelectMany(b => b) ?? [])
        {
            t.Dispose();
        }

        _before = null;
    }
}
