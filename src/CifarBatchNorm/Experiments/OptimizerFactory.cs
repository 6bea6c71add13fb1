using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>Builds the optimizer a <see cref="TrainConfig"/> describes, with its learning-rate schedule.</summary>
public static class OptimizerFactory
{
    /// <summary>What <see cref="LearningRateScheduleKind.Exponential"/> multiplies the learning rate by per epoch.</summary>
    public const double ExponentialDecayPerEpoch = 0.9;

    /// <summary>Keras's default weight decay of AdamW, used when <see cref="TrainConfig.WeightDecay"/> is not set.</summary>
    public const double AdamWDefaultWeightDecay = 0.004;

    /// <summary>
    /// The optimizer for <paramref name="config"/>: its <see cref="TrainConfig.Optimizer"/> at
    /// <paramref name="learningRate"/> (default: the config's), following its <see cref="TrainConfig.LearningRateSchedule"/>.
    /// </summary>
    /// <param name="config">The run's settings.</param>
    /// <param name="stepsPerEpoch">Optimizer steps in one epoch (the schedules count steps).</param>
    /// <param name="learningRate">Overrides the config's learning rate (a comparison's grid); <c>null</c> keeps it.</param>
    public static Optimizer Create(TrainConfig config, int stepsPerEpoch, double? learningRate = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerEpoch, 1);
        double rate = learningRate ?? config.LearningRate;
        LearningRateSchedule? schedule = config.LearningRateSchedule switch
        {
            LearningRateScheduleKind.Cosine => new CosineDecay(rate, decaySteps: (long)stepsPerEpoch * config.Epochs),
            LearningRateScheduleKind.Exponential => new ExponentialDecay(rate, decaySteps: stepsPerEpoch, decayRate: ExponentialDecayPerEpoch),
            _ => null,
        };
        var options = config.WeightDecay is double decay ? new OptimizerOptions { WeightDecay = decay } : null;
        return config.Optimizer switch
        {
            OptimizerKind.AdamW when schedule is not null => new AdamW(schedule, config.WeightDecay ?? AdamWDefaultWeightDecay),
            OptimizerKind.AdamW => new AdamW(rate, config.WeightDecay ?? AdamWDefaultWeightDecay),
            OptimizerKind.Sgd when schedule is not null => new Sgd(schedule, config.Momentum, config.Nesterov, options),
            OptimizerKind.Sgd => new Sgd(rate, config.Momentum, config.Nesterov, options),
            _ when schedule is not null => new Adam(schedule, options: options),
            _ => new Adam(rate, options: options),
        };
    }

    /// <summary>Optimizer steps per epoch for <paramref name="trainingSamples"/> samples in batches of <paramref name="batchSize"/>.</summary>
    public static int StepsPerEpoch(int trainingSamples, int batchSize) => Math.Max(1, (trainingSamples + batchSize - 1) / batchSize);

    /// <summary>A short description for the run's banner, e.g. <c>adamw, learning rate 0.001 with cosine decay, weight decay 0.004</c>.</summary>
    public static string Describe(TrainConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string text = string.Create(inv, $"{config.Optimizer.ToString().ToLowerInvariant()}, learning rate {config.LearningRate}");
        text += config.LearningRateSchedule switch
        {
            LearningRateScheduleKind.Cosine => " with cosine decay to 0",
            LearningRateScheduleKind.Exponential => string.Create(inv, $" decaying x{ExponentialDecayPerEpoch} per epoch"),
            _ => "",
        };
        if (config.Optimizer == OptimizerKind.Sgd && config.Momentum > 0)
        {
            text += string.Create(inv, $", {(config.Nesterov ? "Nesterov " : "")}momentum {config.Momentum}");
        }

        double? decay = config.Optimizer == OptimizerKind.AdamW ? config.WeightDecay ?? AdamWDefaultWeightDecay : config.WeightDecay;
        return decay is double d ? text + string.Create(inv, $", weight decay {d}") : text;
    }
}
