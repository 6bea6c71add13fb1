using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Cli;

/// <summary>
/// Puts the command line's names into the library's messages: the library names config properties
/// (<c>TrainConfig.Epochs</c>), the command line names its flags (<c>--epochs</c>). One table, used for every error.
/// </summary>
internal static class CliMessages
{
    /// <summary>Each config property a flag sets, and the flag.</summary>
    internal static readonly IReadOnlyDictionary<string, string> Flags = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.Epochs)}"] = "--epochs",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.BatchSize)}"] = "--batch-size",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.LearningRate)}"] = "--learning-rate",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.Seed)}"] = "--seed",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.Threads)}"] = "--threads",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.TrainLimit)}"] = "--train-limit",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.TestLimit)}"] = "--test-limit",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.BnMomentum)}"] = "--bn-momentum",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.EarlyStoppingPatience)}"] = "--early-stopping-patience",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.ReduceLrPatience)}"] = "--reduce-lr-patience",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.DataDir)}"] = "--data-dir",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.DownloadUrl)}"] = "--url",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.Device)}"] = "--device",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.Dataset)}"] = "--dataset",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.TensorBoardDir)}"] = "--tensorboard",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.ValidationSplit)}"] = "--validation-split",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.Augment)}"] = "--augment",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.Optimizer)}"] = "--optimizer",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.LearningRateSchedule)}"] = "--lr-schedule",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.WeightDecay)}"] = "--weight-decay",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.Momentum)}"] = "--momentum",
        [$"{nameof(TrainConfig)}.{nameof(TrainConfig.Nesterov)}"] = "--nesterov",
        [$"{nameof(CompareConfig)}.{nameof(CompareConfig.Variants)}"] = "--variants",
        [$"{nameof(AnalyzeConfig)}.{nameof(AnalyzeConfig.Seeds)}"] = "--seeds",
        [$"{nameof(CompareConfig)}.{nameof(CompareConfig.Seeds)}"] = "--seeds",
        [$"{nameof(CompareConfig)}.{nameof(CompareConfig.TargetAccuracy)}"] = "--target-accuracy",
        [$"{nameof(CompareConfig)}.{nameof(CompareConfig.LossTarget)}"] = "--loss-target",
        [$"{nameof(CompareConfig)}.{nameof(CompareConfig.LossHalfLifeSteps)}"] = "--loss-half-life",
        [$"{nameof(CompareConfig)}.{nameof(CompareConfig.LearningRates)}"] = "--learning-rates",
        [$"{nameof(CompareConfig)}.{nameof(CompareConfig.BatchSizes)}"] = "--batch-sizes",
        [$"{nameof(CompareConfig)}.{nameof(CompareConfig.Shard)}"] = "--shard",
        ["CompareConfig.Resume"] = "--resume",   // compare/analyze --resume, which is no config property
        [$"{nameof(AnalyzeConfig)}.{nameof(AnalyzeConfig.Variants)}"] = "--variants",
        [$"{nameof(AnalyzeConfig)}.{nameof(AnalyzeConfig.ProbeEvery)}"] = "--probe-every",
        [$"{nameof(AnalyzeConfig)}.{nameof(AnalyzeConfig.ProbeBatch)}"] = "--probe-batch",
    };

    /// <summary>Phrases of library messages that name what a flag gave (the output folder of a new run).</summary>
    private static readonly IReadOnlyDictionary<string, string> Phrases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["The run folder "] = "--output ",
        ["sharded runs (CompareConfig.Shard)"] = "compare --shard K/N runs",
        ["DownloadOptions.Url"] = "--url",
        ["ImageShape "] = "--input-shape ",
        ["architecture \"notebook\""] = "--architecture notebook",
        ["drop architecture \""] = "drop --architecture \"",
        ["Download it (Cifar10Downloader)"] = $"Run '{CliName.Command("download")}'",
        ["(or download it again with Cifar10Downloader)"] = $"(or run '{CliName.Command("download")}')",
        ["Delete it and download again (Cifar10Downloader)."] = $"Delete it and run '{CliName.Command("download")}' again.",
    };

    /// <summary>Whether <paramref name="e"/> rejects the value of a setting a flag gives (a usage error, exit code 2).</summary>
    public static bool IsOptionError(Exception e) => e is ArgumentException { ParamName: string name } && Flags.ContainsKey(name);

    /// <summary>The first line of <paramref name="e"/>'s message with every config property replaced by its flag.</summary>
    public static string ForUser(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string message = e is ArgumentException a && a.ParamName is not null
            ? a.Message.Replace($" (Parameter '{a.ParamName}')", string.Empty, StringComparison.Ordinal)
            : e.Message;
        return ForUser(message.Split('\n')[0].TrimEnd());
    }

    /// <summary>A library message (advice, a warning) with every config property replaced by its flag.</summary>
    public static string ForUser(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (var (property, flag) in Flags.Concat(Phrases).OrderByDescending(kv => kv.Key.Length))
        {
            message = message.Replace(property, flag, StringComparison.Ordinal);
        }

        return message;
    }
}
