using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Base of the measurement callbacks: every <see cref="Every"/> steps, on a fixed probe batch, runs
/// <see cref="Measure"/> and then puts back everything training depends on (weights, BN statistics, gradients,
/// the global RNG state and the train/eval mode), so a probed run trains exactly like an unprobed one.
/// </summary>
internal abstract class ProbeCallback : Callback, IDisposable
{
    private int _globalStep;

    /// <summary>Creates the probe.</summary>
    /// <param name="images">Probe images (B, C, H, W), float; copied.</param>
    /// <param name="labels">Probe labels (B), int64; copied.</param>
    /// <param name="every">Probe every N training steps, at least 1.</param>
    protected ProbeCallback(Tensor images, Tensor labels, int every)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        Images = images.detach().clone().DetachFromDisposeScope();
        Labels = labels.detach().clone().DetachFromDisposeScope();
        Every = every;
    }

    /// <summary>Steps between probes.</summary>
    public int Every { get; }

    /// <summary>The probe batch's images.</summary>
    protected Tensor Images { get; }

    /// <summary>The probe batch's labels.</summary>
    protected Tensor Labels { get; }

    /// <inheritdoc />
    public override void OnTrainBegin() => _globalStep = 0;

    /// <inheritdoc />
    public override void OnTrainBatchBegin(int step)
    {
        if ((_globalStep + 1) % Every == 0 && Model is { } model)
        {
            BeforeProbedStep(model);
        }
    }

    /// <summary>
    /// Called before the optimizer step after which <see cref="Measure"/> runs (the weights are still those before
    /// the update); a probe that needs them (<see cref="GradientShiftProbe"/>) keeps them here. Does nothing by default.
    /// </summary>
    protected virtual void BeforeProbedStep(Sequential model)
    {
    }

    /// <inheritdoc />
    public override void OnTrainBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        _globalStep++;
        if (_globalStep % Every != 0 || Model is not { } model)
        {
            return;
        }

        bool wasTraining = model.training;
        using var scope = NewDisposeScope();
        using var weights = WeightsSnapshot.Capture(model);
        var rng = get_rng_state();
        var grads = model.parameters().Select(p => p.grad?.detach().clone()).ToArray();
        try
        {
            Measure(model, _globalStep);
        }
        finally
        {
            weights.Restore(model);
            set_rng_state(rng);
            using (no_grad())
            {
                var parameters = model.parameters().ToArray();
                for (int i = 0; i < parameters.Length; i++)
                {
                    if (grads[i] is { } g)
                    {
                        parameters[i].grad!.copy_(g);
                    }
                }
            }

            model.train(wasTraining);
        }
    }

    /// <summary>Takes the measurement; may change weights, BN statistics and gradients freely.</summary>
    protected abstract void Measure(Sequential model, int step);

    /// <inheritdoc />
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        GC.SuppressFinalize(this);
    }
}
