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

    /// <summary><c>--architecture</c>: what a bare weights file from elsewhere is (the notebook's model).</summary>
    public static Option<string?> Architecture() => new("--architecture")
    {
        Description = "For bare weights without a run folder (save_weights .h5, .weights.h5, .safetensors): notebook (its input shape and classes are read from the weights)",
        Validators = { r => Check<string?>(r, v => v is null || StandaloneModel.Architectures.Contains(v) ? null : $"--architecture '{v}' is not one of {string.Join(", ", StandaloneModel.Architectures)}.") },
    };

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "Folder holding the dataset files; overrides every default location",
        Validators = { r => Check<string?>(r, v => FolderPath("--data-dir", v, "the folder holding the dataset files")) },
    };

    /// <summary>The <c>--output</c> folder a command creates.</summary>
    public static Option<string?> Output(string description) => new("--output", "-o")
    {
        Description = description,
        Validators = { r => Check<string?>(r, v => FolderPath("--output", v, "a folder path for the new run")) },
    };

    /// <summary>An option naming a folder to write into (<c>--tensorboard</c>).</summary>
    public static Option<string?> Folder(string name, string description, string what) => new(name)
    {
        Description = description,
        Validators = { r => Check<string?>(r, v => FolderPath(name, v, what)) },
    };

    /// <summary>A path that must be a folder (or not exist yet): empty and existing files are refused, naming the option.</summary>
    private static string? FolderPath(string name, string? value, string what)
    {
        if (value is null)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            return $"{name} is empty; give {what}.";
        }

        return File.Exists(value) ? $"{name} {value} is a file; give {what}." : null;
    }

    /// <summary><paramref name="path"/> as a shell word a user can paste: single-quoted unless it is plain.</summary>
    public static string ShellQuote(string path) =>
        path.Length > 0 && path.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+:@%=,".Contains(c, StringComparison.Ordinal))
            ? path
            : "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>An integer option whose allowed values are the config property's <paramref name="range"/>.</summary>
    public static Option<int> Int(string name, int defaultValue, IntRange range, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => ParseWhole(r, name) ?? 0,
        Validators = { r => Check<int>(r, v => Range(name, v, range)) },
    };

    /// <summary>An optional integer option whose allowed values are the config property's <paramref name="range"/>.</summary>
    public static Option<int?> OptionalInt(string name, IntRange range, string description) => new(name)
    {
        Description = description,
        CustomParser = r => ParseWhole(r, name),
        Validators = { r => Check<int?>(r, v => v is int value ? Range(name, value, range) : null) },
    };

    public static Option<double> LearningRate() => new("--learning-rate", "--lr")
    {
        Description = "Learning rate (the start of --lr-schedule)",
        DefaultValueFactory = _ => 0.001,
        CustomParser = r => ParseNumber(r, "--learning-rate"),
        Validators =
        {
            r => Check<double>(r, v => TrainConfig.IsLearningRate(v)
                ? null
                : $"--learning-rate {v.ToString(CultureInfo.InvariantCulture)} is out of range: expected {TrainConfig.LearningRateAllowed}."),
        },
    };

    public static Option<string> Variant() => new("--variant")
    {
        Description = "Normalization placement: bn (the notebook: ReLU then BN), none, bn-before-relu, renorm (Batch Renormalization), bn-m09 (bn at BN momentum 0.9)",
        DefaultValueFactory = _ => "bn",
        Validators = { r => Check<string>(r, v => Message(() => ModelPresets.ParseVariant(v))) },
    };

    /// <summary>A comma-separated list of variants, checked at parse time.</summary>
    public static Option<string> Variants(string defaultValue) => new("--variants")
    {
        Description = "Comma-separated variants: bn, none, bn-before-relu, renorm, bn-m09 (bn at BN momentum 0.9)",
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
        CustomParser = r => ParseNumber(r, "--bn-momentum"),
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

    /// <summary>The <c>--url</c> of a CIFAR-10 mirror, checked at parse time (absolute http or https).</summary>
    public static Option<string?> Url() => new("--url")
    {
        Description = "Mirror of cifar-10-binary.tar.gz (default: CIFAR_BATCHNORM_URL or the official address)",
        Validators = { r => Check<string?>(r, v => v is null ? null : Message(() => _ = new Data.Download.DownloadOptions { Url = v })) },
    };

    public static Option<string> Optimizer() => new("--optimizer")
    {
        Description = "adam (the notebook's), adamw (Adam with decoupled weight decay, 0.004 unless --weight-decay) or sgd (Keras's SGD; see --momentum, --nesterov)",
        DefaultValueFactory = _ => "adam",
        Validators = { r => Check<string>(r, v => Message(() => ParseOptimizer(v))) },
    };

    public static Option<string> LearningRateSchedule() => new("--lr-schedule")
    {
        Description = "constant (the notebook's), cosine (Keras CosineDecay to 0 over the run) or exponential (x0.9 per epoch, Keras ExponentialDecay)",
        DefaultValueFactory = _ => "constant",
        Validators = { r => Check<string>(r, v => Message(() => ParseSchedule(v))) },
    };

    public static Option<double?> WeightDecay() => new("--weight-decay")
    {
        Description = "Decoupled weight decay, Keras's weight_decay (default: none; 0.004 for adamw)",
        CustomParser = r => ParseNumber(r, "--weight-decay"),
        Validators =
        {
            r => Check<double?>(r, v => v is null || (v >= 0 && double.IsFinite(v.Value))
                ? null
                : $"--weight-decay {v.Value.ToString(CultureInfo.InvariantCulture)} is out of range: expected {TrainConfig.WeightDecayAllowed}."),
        },
    };

    public static Option<double> Momentum() => new("--momentum")
    {
        Description = "SGD momentum (default 0, Keras's); only with --optimizer sgd",
        DefaultValueFactory = _ => 0.0,
        CustomParser = r => ParseNumber(r, "--momentum"),
        Validators =
        {
            r => Check<double>(r, v => v is >= 0 and <= 1
                ? null
                : $"--momentum {v.ToString(CultureInfo.InvariantCulture)} is out of range: expected {TrainConfig.MomentumAllowed}."),
        },
    };

    /// <summary>Parses <c>adam</c>, <c>adamw</c>, <c>sgd</c>.</summary>
    public static OptimizerKind ParseOptimizer(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "adam" => OptimizerKind.Adam,
        "adamw" => OptimizerKind.AdamW,
        "sgd" => OptimizerKind.Sgd,
        _ => throw new ArgumentException($"--optimizer '{text}' is not adam, adamw or sgd."),
    };

    /// <summary>Parses <c>constant</c>, <c>cosine</c>, <c>exponential</c>.</summary>
    public static LearningRateScheduleKind ParseSchedule(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "constant" => LearningRateScheduleKind.Constant,
        "cosine" => LearningRateScheduleKind.Cosine,
        "exponential" => LearningRateScheduleKind.Exponential,
        _ => throw new ArgumentException($"--lr-schedule '{text}' is not constant, cosine or exponential."),
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "auto (CUDA when usable, else CPU), cpu, cuda or cuda:N; CUDA needs a build with -p:TorchBackend=cuda-linux or cuda-windows",
        DefaultValueFactory = _ => DeviceSelector.Auto,
        Validators = { r => Check<string>(r, v => Message(() => DeviceSelector.Normalize(v))) },
    };

    /// <summary>
    /// Reads a whole number in the flag's own words ("--epochs 'abc' is not a whole number."), instead of the
    /// parser's "Cannot parse argument 'abc' for option '--epochs' as expected type 'System.Int32'".
    /// </summary>
    internal static int? ParseWhole(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
        {
            return value;
        }

        result.AddError(long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? $"{name} '{text}' is too large: expected a whole number up to {int.MaxValue}."
            : $"{name} '{text}' is not a whole number.");
        return null;
    }

    /// <summary>Reads a number (invariant culture, e.g. 0.001 or 1e-3) in the flag's own words.</summary>
    internal static double ParseNumber(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            return value;
        }

        result.AddError($"{name} '{text}' is not a number (write it as 0.001 or 1e-3).");
        return 0;
    }

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
