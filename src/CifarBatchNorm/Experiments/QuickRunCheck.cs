using System.Globalization;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Spots the run that looks broken but is only short: a model with batch normalization whose last validation
/// accuracy is far below its training accuracy, because the moving statistics used at inference (momentum 0.99:
/// each step moves them 1% of the way) have not caught up with the weights after a few steps.
/// </summary>
internal static class QuickRunCheck
{
    /// <summary>"Far below": validation accuracy under training accuracy minus this.</summary>
    public const double Gap = 0.2;

    /// <summary>And under this, so a good run with a gap (overfitting) is not flagged.</summary>
    public const double Ceiling = 0.5;

    /// <summary>The advice for <paramref name="history"/> of a run of <paramref name="config"/>, or <c>null</c> when it looks fine.</summary>
    public static string? Advise(TrainConfig config, History history, int stepsPerEpoch)
    {
        if (config.Variant == NormalizationVariant.None || history.Accuracy.Count == 0 || history.ValAccuracy.Count == 0)
        {
            return null;
        }

        double train = history.Accuracy[^1], validation = history.ValAccuracy[^1];
        if (!(validation < train - Gap && validation < Ceiling))
        {
            return null;
        }

        int steps = history.Epochs.Count * stepsPerEpoch;
        double memory = 1 / (1 - config.BnMomentum);
        string lower = config.BnMomentum > 0.9 ? "to 0.9" : "further";
        return string.Create(CultureInfo.InvariantCulture,
            $"Validation accuracy {validation:0.0000} ended far below training accuracy {train:0.0000} after {steps:N0} steps: "
            + $"batch normalization's moving statistics (momentum {config.BnMomentum}, an average over about the last {memory:0} steps) "
            + $"have probably not caught up with the weights yet. Train for more steps (more epochs or images), or lower "
            + $"TrainConfig.{nameof(TrainConfig.BnMomentum)} {lower} so they follow faster.");
    }
}
