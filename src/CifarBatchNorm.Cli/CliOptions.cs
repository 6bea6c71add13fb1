using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Runtime;

namespace CifarBatchNorm.Cli;

/// <summary>Factories for the options the commands share; each validates its value at parse time.</summary>
internal static class CliOptions
{
    public static Option<string> Dataset() => new("--dataset")
    {
        Description = "auto (CIFAR-10, else Fashion-MNIST, else synthetic), cifar10, fashion-mnist or synthetic",
        DefaultValueFactory = _ => "auto",
        Validators = { r => Check<string>(r, v => Message(() => DatasetSelector.Parse(v))) },
    };

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "Folder holding the dataset files; overrides every default location",
    };

    /// <summary>An integer option whose allowed values are the config property's <paramref name="range"/>.</summary>
    public static Option<int> Int(string name, int defaultValue, IntRange range, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        Validators = { r => Check<int>(r, v => Range(name, v, range)) },
    };

    /// <summary>An optional integer option whose allowed values are the config property's <paramref name="range"/>.</summary>
    public static Option<int?> OptionalInt(string name, IntRange range, string description) => new(name)
    {
        Description = description,
        Validators = { r => Check<int?>(r, v => v is int value ? Range(name, value, range) : null) },
    };

    public static Option<double> LearningRate() => new("--learning-rate", "--lr")
    {
        Description = "Adam learning rate",
        DefaultValueFactory = _ => 0.001,
        Validators =
        {
            r => Check<double>(r, v => TrainConfig.IsLearningRate(v)
                ? null
                : $"--learning-rate {v.ToString(CultureInfo.InvariantCulture)} is out of range: expected {TrainConfig.LearningRateAllowed}."),
        },
    };

    public static Option<string> Variant() => new("--variant")
    {
        Description = "Normalization placement: bn (the notebook: ReLU then BN), none, bn-before-relu, renorm (Batch Renormalization)",
        DefaultValueFactory = _ => "bn",
        Validators = { r => Check<string>(r, v => Message(() => ModelPresets.ParseVariant(v))) },
    };

    /// <summary>A comma-separated list of variants, checked at parse time.</summary>
    public static Option<string> Variants(string defaultValue) => new("--variants")
    {
        Description = "Comma-separated variants: bn, none, bn-before-relu, renorm",
        DefaultValueFactory = _ => defaultValue,
        Validators = { r => Check<string>(r, v => Message(() => ParseVariants(v))) },
    };

    /// <summary>Parses <c>bn,none,...</c>.</summary>
    public static NormalizationVariant[] ParseVariants(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ModelPresets.ParseVariant).ToArray();

    public static Option<double> BnMomentum() => new("--bn-momentum")
    {
        Description = "Keras momentum of the BN moving statistics (0.99 Keras, 0.9 PyTorch's default)",
        DefaultValueFactory = _ => 0.99,
        Validators =
        {
            r => Check<double>(r, v => TrainConfig.IsBnMomentum(v)
                ? null
                : $"--bn-momentum {v.ToString(CultureInfo.InvariantCulture)} is out of range: expected {TrainConfig.BnMomentumAllowed}."),
        },
    };

    public static Option<double> ValidationSplit() => new("--validation-split")
    {
        Description = "Validate on the last fraction of the training set (Keras's validation_split, e.g. 0.1) instead of the test set; the final evaluation stays on the test set",
        DefaultValueFactory = _ => 0,
        Validators =
        {
            r => Check<double>(r, v => TrainConfig.IsValidationSplit(v)
                ? null
                : $"--validation-split {v.ToString(CultureInfo.InvariantCulture)} is out of range: expected {TrainConfig.ValidationSplitAllowed}."),
        },
    };

    public static Option<string> Augment() => new("--augment")
    {
        Description = "Training-only augmentation layers at the model's start, comma-separated: flip (left-right), translate (up to 10%), crop (pad 4, random crop); default none",
        DefaultValueFactory = _ => "none",
        Validators = { r => Check<string>(r, v => Message(() => ModelPresets.ParseAugmentations(v))) },
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "auto (CUDA when usable, else CPU), cpu, cuda or cuda:N; CUDA needs a build with -p:TorchBackend=cuda-linux or cuda-windows",
        DefaultValueFactory = _ => DeviceSelector.Auto,
        Validators = { r => Check<string>(r, v => Message(() => DeviceSelector.Normalize(v))) },
    };

    /// <summary>Runs <paramref name="rule"/> on the converted value; a value that did not convert already has its error.</summary>
    private static void Check<T>(OptionResult result, Func<T, string?> rule)
    {
        T value;
        try
        {
            value = result.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return;
        }

        if (rule(value) is string error)
        {
            result.AddError(error);
        }
    }

    private static string? Range(string name, int value, IntRange range) =>
        range.Contains(value) ? null : $"{name} {value} is out of range: expected {range}.";

    private static string? Message(Action parse)
    {
        try
        {
            parse();
            return null;
        }
        catch (ArgumentException e)
        {
            return CliMessages.ForUser(e);
        }
    }
}
