using System.CommandLine;
using System.Globalization;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Cli;

/// <summary>Factories for the options the commands share; each validates its value at parse time.</summary>
internal static class CliOptions
{
    public static Option<string> Dataset() => new("--dataset")
    {
        Description = "auto (CIFAR-10, else Fashion-MNIST, else synthetic), cifar10, fashion-mnist or synthetic",
        DefaultValueFactory = _ => "auto",
        Validators = { r => Validate(r, () => DatasetSelector.Parse(r.GetValueOrDefault<string>()!)) },
    };

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "Folder holding the dataset files; overrides every default location",
    };

    public static Option<int> Int(string name, int defaultValue, int min, int max, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        Validators = { r => Range(r, name, r.GetValueOrDefault<int>(), min, max) },
    };

    public static Option<int?> OptionalInt(string name, int min, int max, string description) => new(name)
    {
        Description = description,
        Validators = { r => { if (r.GetValueOrDefault<int?>() is int v) { Range(r, name, v, min, max); } } },
    };

    public static Option<double> LearningRate() => new("--learning-rate", "--lr")
    {
        Description = "Adam learning rate",
        DefaultValueFactory = _ => 0.001,
        Validators =
        {
            r =>
            {
                double v = r.GetValueOrDefault<double>();
                if (!(v > 0 && v <= 10) || !double.IsFinite(v))
                {
                    r.AddError($"--learning-rate {v.ToString(CultureInfo.InvariantCulture)} is out of range: expected a number in (0, 10].");
                }
            },
        },
    };

    public static Option<string> Variant() => new("--variant")
    {
        Description = "Normalization placement: bn (the notebook: ReLU then BN), none, bn-before-relu",
        DefaultValueFactory = _ => "bn",
        Validators = { r => Validate(r, () => ModelPresets.ParseVariant(r.GetValueOrDefault<string>()!)) },
    };

    public static Option<double> BnMomentum() => new("--bn-momentum")
    {
        Description = "Keras momentum of the BN moving statistics (0.99 Keras, 0.9 PyTorch's default)",
        DefaultValueFactory = _ => 0.99,
        Validators =
        {
            r =>
            {
                double v = r.GetValueOrDefault<double>();
                if (!(v >= 0 && v < 1))
                {
                    r.AddError($"--bn-momentum {v.ToString(CultureInfo.InvariantCulture)} is out of range: expected [0, 1).");
                }
            },
        },
    };

    private static void Range(System.CommandLine.Parsing.OptionResult r, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            r.AddError($"{name} {value} is out of range: expected {min} to {max}.");
        }
    }

    private static void Validate(System.CommandLine.Parsing.OptionResult r, Action parse)
    {
        try
        {
            parse();
        }
        catch (ArgumentException e)
        {
            r.AddError(e.Message);
        }
    }
}
