using System.Globalization;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Spots the run that looks broken but is only short: a model with batch normalization whose last validation
/// accuracy is far below its training accuracy, because the moving statistics used at inference (momentum 0.99:
/// each step moves them 1% of the way) have not caught up with the weights after a few steps. The command line's
/// closing <c>Note:</c> and <see cref="RunResult.Advice"/> come from here; call <see cref="Advise(Sequential, History, int)"/>
/// after your own <c>Fit</c> to get the same line.
/// </summary>
public static class QuickRunCheck
{
    /// <summary>"Far below": validation accuracy under training accuracy minus this.</summary>
    public const double Gap = 0.2;

    /// <summary>And under this, so a good run with a gap (overfitting) is not flagged.</summary>
    public const double Ceiling = 0.5;

    /// <summary>
    /// The advice for <paramref name="history"/> of a run of <paramref name="config"/>, or <c>null</c> when it looks
    /// fine; it names <c>TrainConfig.BnMomentum</c> (the command line shows it as <c>--bn-momentum</c>).
    /// </summary>
    /// <param name="config">The run's settings (its variant and BN momentum).</param>
    /// <param name="history">What the run's <c>Fit</c> recorded.</param>
    /// <param name="stepsPerEpoch">Optimizer steps per epoch.</param>
    public static string? Advise(TrainConfig config, History history, int stepsPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Variant == NormalizationVariant.None ? null
            : Advise(config.BnMomentum, history, stepsPerEpoch, $"{nameof(TrainConfig)}.{nameof(TrainConfig.BnMomentum)}");
    }

    /// <summary>
    /// The advice for <paramref name="history"/> of <paramref name="model"/> trained with <c>Fit</c>, or <c>null</c> when
    /// it looks fine or the model has no batch normalization; it names the <c>momentum</c> argument of
    /// <see cref="BatchNormalization"/>.
    /// </summary>
    /// <param name="model">The trained model; its <see cref="BatchNormalization"/> or <see cref="BatchRenormalization"/> layers give the momentum (the largest one).</param>
    /// <param name="history">What <c>Fit</c> returned (with validation data, so it holds <c>val_accuracy</c>).</param>
    /// <param name="stepsPerEpoch">Optimizer steps per epoch: the training images divided by the batch size, rounded up.</param>
    public static string? Advise(Sequential model, History history, int stepsPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(model);
        var momenta = model.Layers.Select(layer => layer switch
        {
            BatchNormalization bn => bn.Momentum,
            BatchRenormalization renorm => renorm.Momentum,
            _ => (double?)null,
        }).OfType<double>().ToList();
        return momenta.Count == 0 ? null
            : Advise(momenta.Max(), history, stepsPerEpoch, $"the momentum of {nameof(BatchNormalization)}(momentum: ...)");
    }

    private static string? Advise(double momentum, History history, int stepsPerEpoch, string knob)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerEpoch, 1);
        if (history.Accuracy.Count == 0 || history.ValAccuracy.Count == 0)
        {
            return null;
        }

        double train = history.Accuracy[^1], validation = history.ValAccuracy[^1];
        if (!(validation < train - Gap && validation < Ceiling))
        {
            return null;
        }

        int steps = history.Epochs.Count * stepsPerEpoch;
        double memory = 1 / (1 - momentum);
        string lower = momentum > 0.9 ? "to 0.9" : "further";
        return string.Create(CultureInfo.InvariantCulture,
            $"Validation accuracy {validation:0.0000} ended far below training accuracy {train:0.0000} after {steps:N0} steps: "
            + $"batch normalization's moving statistics (momentum {momentum}, an average over about the last {memory:0} steps) "
            + $"have probably not caught up with the weights yet. Train for more steps (more epochs or images), or lower "
            + $"{knob} {lower} so they follow faster.");
    }
}
