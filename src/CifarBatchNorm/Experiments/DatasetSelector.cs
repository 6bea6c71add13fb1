using CifarBatchNorm.Data;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Finds and loads the dataset a run asks for. <see cref="DatasetKind.Auto"/> takes CIFAR-10 when its files are
/// found, else Fashion-MNIST when installed, else the synthetic set, and says which and why. An explicit dataset
/// never falls back: missing files are an error that says where it looked and how to get them.
/// </summary>
public static class DatasetSelector
{
    /// <summary>Environment variable naming the data folder when --data-dir is not given.</summary>
    public const string DataDirVariable = "CIFAR_BATCHNORM_DATA";

    /// <summary>
    /// Where CIFAR-10 is looked for (and downloaded to): <paramref name="dataDir"/>, else
    /// <c>$CIFAR_BATCHNORM_DATA</c>, else <c>$XDG_CACHE_HOME/cifar-batchnorm</c> (<c>~/.cache/cifar-batchnorm</c>).
    /// </summary>
    public static string Cifar10Directory(string? dataDir)
    {
        if (!string.IsNullOrEmpty(dataDir))
        {
            return Path.GetFullPath(dataDir);
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable(DataDirVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string cache = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(cache, "cifar-batchnorm");
    }

    /// <summary>Where Fashion-MNIST is looked for: <paramref name="dataDir"/>, else Debian's package folder.</summary>
    public static string FashionMnistDirectory(string? dataDir) =>
        string.IsNullOrEmpty(dataDir) ? FashionMnist.DebianDirectory : Path.GetFullPath(dataDir);

    /// <summary>Loads the data for <paramref name="config"/> and applies its limits.</summary>
    /// <exception cref="DatasetNotFoundException">An explicitly requested dataset is not there.</exception>
    /// <exception cref="DataFormatException">A data file is corrupted.</exception>
    public static LoadedData Load(TrainConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var loaded = config.Dataset switch
        {
            DatasetKind.Cifar10 => LoadCifar10(config, "requested with --dataset cifar10"),
            DatasetKind.FashionMnist => LoadFashionMnist(config, "requested with --dataset fashion-mnist"),
            DatasetKind.Synthetic => LoadSynthetic(config, "requested with --dataset synthetic"),
            _ => LoadAuto(config),
        };
        var train = config.TrainLimit is int trainLimit ? loaded.Train.Take(trainLimit) : loaded.Train;
        var test = config.TestLimit is int testLimit ? loaded.Test.Take(testLimit) : loaded.Test;
        return loaded with { Train = train, Test = test };
    }

    /// <summary>Parses a dataset name: <c>auto</c>, <c>cifar10</c>, <c>fashion-mnist</c>, <c>synthetic</c>.</summary>
    public static DatasetKind Parse(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "auto" => DatasetKind.Auto,
        "cifar10" or "cifar-10" => DatasetKind.Cifar10,
        "fashion-mnist" or "fashion_mnist" or "fashionmnist" => DatasetKind.FashionMnist,
        "synthetic" => DatasetKind.Synthetic,
        _ => throw new ArgumentException($"Unknown dataset '{name}': use auto, cifar10, fashion-mnist or synthetic."),
    };

    /// <summary>The command-line name of a dataset.</summary>
    public static string Name(DatasetKind kind) => kind switch
    {
        DatasetKind.Auto => "auto",
        DatasetKind.Cifar10 => "cifar10",
        DatasetKind.FashionMnist => "fashion-mnist",
        DatasetKind.Synthetic => "synthetic",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown dataset."),
    };

    private static LoadedData LoadAuto(TrainConfig config)
    {
        string cifarDir = Cifar10Directory(config.DataDir);
        if (Cifar10.Locate(cifarDir) is not null)
        {
            return LoadCifar10(config, "found by --dataset auto");
        }

        string fashionDir = FashionMnistDirectory(config.DataDir);
        if (FashionMnist.IsPresent(fashionDir))
        {
            return LoadFashionMnist(config, $"CIFAR-10 not found in {cifarDir}");
        }

        return LoadSynthetic(config, $"CIFAR-10 not found in {cifarDir} and Fashion-MNIST not found in {fashionDir}");
    }

    private static LoadedData LoadCifar10(TrainConfig config, string why)
    {
        string dir = Cifar10Directory(config.DataDir);
        var (train, test) = Cifar10.Load(dir);
        return new LoadedData(DatasetKind.Cifar10, train, test, dir, $"Using CIFAR-10 from {dir} ({why}).");
    }

    private static LoadedData LoadFashionMnist(TrainConfig config, string why)
    {
        string dir = FashionMnistDirectory(config.DataDir);
        var (train, test) = FashionMnist.Load(dir);
        return new LoadedData(DatasetKind.FashionMnist, train, test, dir, $"Using Fashion-MNIST from {dir} ({why}).");
    }

    private static LoadedData LoadSynthetic(TrainConfig config, string why)
    {
        var (train, test) = SyntheticImages.Generate(new SyntheticOptions
        {
            Seed = config.Seed,
            TrainCount = config.TrainLimit is int t ? Math.Min(t, 50_000) : 50_000,
            TestCount = config.TestLimit is int v ? Math.Min(v, 10_000) : 10_000,
        });
        return new LoadedData(DatasetKind.Synthetic, train, test, null, $"Using the synthetic CIFAR-10-shaped set, seed {config.Seed} ({why}).");
    }
}
