using CifarBatchNorm.Data;
using CifarBatchNorm.Data.Download;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Finds and loads the dataset a run asks for. <see cref="DatasetKind.Auto"/> takes CIFAR-10 when its files are
/// found or can be downloaded (one quick attempt), else Fashion-MNIST when installed, else the synthetic set, and
/// says which and why. An explicit dataset never falls back: <see cref="DatasetKind.Cifar10"/> downloads with
/// retries when missing, and a failure is an error that says where it looked and why the download failed.
/// </summary>
public static class DatasetSelector
{
    /// <summary>Environment variable naming the data folder when --data-dir is not given.</summary>
    public const string DataDirVariable = DataCache.DataDirectoryVariable;

    /// <summary>
    /// Where CIFAR-10 is looked for (and downloaded to): <paramref name="dataDir"/>, else
    /// <c>$CIFAR_BATCHNORM_DATA</c>, else <c>$XDG_CACHE_HOME/cifar-batchnorm</c> (<c>~/.cache/cifar-batchnorm</c>).
    /// </summary>
    public static string Cifar10Directory(string? dataDir) => DataCache.Resolve(dataDir);

    /// <summary>Where Fashion-MNIST is looked for: <paramref name="dataDir"/>, else Debian's package folder.</summary>
    public static string FashionMnistDirectory(string? dataDir) =>
        string.IsNullOrEmpty(dataDir) ? FashionMnist.DebianDirectory : Path.GetFullPath(dataDir);

    /// <summary>Loads the data for <paramref name="config"/> and applies its limits.</summary>
    /// <exception cref="DatasetNotFoundException">An explicitly requested dataset is not there.</exception>
    /// <exception cref="DataFormatException">A data file is corrupted.</exception>
    /// <param name="config">The run's settings.</param>
    /// <param name="progress">Receives download progress when CIFAR-10 is downloaded; may be <c>null</c>.</param>
    public static LoadedData Load(TrainConfig config, IProgress<DownloadProgress>? progress = null) => Load(config, progress, "requested");

    /// <summary>
    /// Loads the dataset a finished or interrupted run used (its <c>config.json</c> names it), so the banner says
    /// where the choice came from rather than that it was requested.
    /// </summary>
    internal static LoadedData LoadRecorded(TrainConfig config, TextWriter output) =>
        Load(config, new ConsoleDownloadProgress(output, IO.ConsoleOutput.IsInteractive(output)), "the run's dataset, from its config.json");

    private static LoadedData Load(TrainConfig config, IProgress<DownloadProgress>? progress, string explicitWhy)
    {
        ArgumentNullException.ThrowIfNull(config);
        var loaded = config.Dataset switch
        {
            DatasetKind.Cifar10 => LoadCifar10(config, explicitWhy, explicitWhy, EnsureCifar10(config, progress, quick: false)),
            DatasetKind.FashionMnist => LoadFashionMnist(config, explicitWhy, explicitWhy),
            DatasetKind.Synthetic => LoadSynthetic(config, explicitWhy, explicitWhy),
            _ => LoadAuto(config, progress),
        };
        var train = config.TrainLimit is int trainLimit ? loaded.Train.Take(trainLimit) : loaded.Train;
        var test = config.TestLimit is int testLimit ? loaded.Test.Take(testLimit) : loaded.Test;
        return loaded with { Train = train, Test = test };
    }

    /// <summary>Loads the data for <paramref name="config"/>, showing any download's progress on <paramref name="output"/>.</summary>
    public static LoadedData Load(TrainConfig config, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return Load(config, new ConsoleDownloadProgress(output, IO.ConsoleOutput.IsInteractive(output)));
    }

    /// <summary>
    /// The start every experiment shares: load the data (printing why this dataset), and
    /// create the new output folder only once the data is there, so a data error leaves nothing behind.
    /// </summary>
    internal static (LoadedData Data, RunFolder Folder) Prepare(TrainConfig config, string outputDir, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(output);
        var data = Load(config, output);
        output.WriteLine(data.Banner);
        return (data, RunFolder.Create(outputDir));
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

    /// <summary>The name of a dataset as a reader knows it (<c>CIFAR-10</c>, <c>Fashion-MNIST</c>, <c>synthetic</c>), for titles and reports.</summary>
    public static string DisplayName(DatasetKind kind) => kind switch
    {
        DatasetKind.Auto => "auto",
        DatasetKind.Cifar10 => "CIFAR-10",
        DatasetKind.FashionMnist => "Fashion-MNIST",
        DatasetKind.Synthetic => "synthetic",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown dataset."),
    };

    /// <summary>The short name of a dataset (<c>cifar10</c>, <c>fashion-mnist</c>, ...), as <see cref="Parse"/> reads it.</summary>
    public static string Name(DatasetKind kind) => kind switch
    {
        DatasetKind.Auto => "auto",
        DatasetKind.Cifar10 => "cifar10",
        DatasetKind.FashionMnist => "fashion-mnist",
        DatasetKind.Synthetic => "synthetic",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown dataset."),
    };

    private static LoadedData LoadAuto(TrainConfig config, IProgress<DownloadProgress>? progress)
    {
        string cifarDir = Cifar10Directory(config.DataDir);
        string? why = null;
        if (Cifar10.Locate(cifarDir) is not null)
        {
            return LoadCifar10(config, "found by automatic selection", "found", cifarDir);
        }

        if (config.Download)
        {
            try
            {
                return LoadCifar10(config, "downloaded by automatic selection", "downloaded", EnsureCifar10(config, progress, quick: true));
            }
            catch (DownloadException e)
            {
                why = $"CIFAR-10 not found in {cifarDir} and download failed: {e.Message.TrimEnd('.')}";
            }
        }

        why ??= $"CIFAR-10 not found in {cifarDir}";
        string fashionDir = FashionMnistDirectory(config.DataDir);
        if (FashionMnist.IsPresent(fashionDir))
        {
            return LoadFashionMnist(config, why, Unavailable);
        }

        return LoadSynthetic(config, $"{why}; Fashion-MNIST not found in {fashionDir}", Unavailable);
    }

    /// <summary>
    /// The CIFAR-10 folder, downloaded first when missing and <see cref="TrainConfig.Download"/> allows it. A quick
    /// attempt (auto selection) makes one try without retries, so an offline machine falls back at once.
    /// </summary>
    private static string EnsureCifar10(TrainConfig config, IProgress<DownloadProgress>? progress, bool quick)
    {
        string dir = Cifar10Directory(config.DataDir);
        if (Cifar10.Locate(dir) is not null || !config.Download)
        {
            return dir;
        }

        var options = DownloadOptions.FromEnvironment();
        if (config.DownloadUrl is not null)
        {
            options = options with { Url = config.DownloadUrl };
        }

        if (quick)
        {
            options = options with { MaxRetries = 0 };
        }

        try
        {
            string folder = Cifar10Downloader.EnsureAsync(dir, options, progress).GetAwaiter().GetResult();
            return Path.GetDirectoryName(folder) ?? dir;
        }
        catch (DownloadException e) when (!quick)
        {
            throw new DatasetNotFoundException(
                $"CIFAR-10 not found in {dir} and could not be downloaded: {e.Message.TrimEnd('.')}. "
                + "Extract cifar-10-binary.tar.gz there, set TrainConfig.DataDir to where it is, or set a mirror in TrainConfig.DownloadUrl.");
        }
    }

    /// <summary>The banner's word for an automatic fallback; the full reason is in config.json.</summary>
    private const string Unavailable = "CIFAR-10 not available; the reason is recorded in the output folder";

    private static LoadedData LoadCifar10(TrainConfig config, string why, string brief, string dir)
    {
        var (train, test) = Cifar10.Load(dir);
        return new LoadedData(DatasetKind.Cifar10, train, test, dir, $"Using CIFAR-10 from {dir} ({why}).")
        {
            Banner = $"Using CIFAR-10 from {dir} ({brief}).",
        };
    }

    private static LoadedData LoadFashionMnist(TrainConfig config, string why, string brief)
    {
        string dir = FashionMnistDirectory(config.DataDir);
        var (train, test) = FashionMnist.Load(dir);
        return new LoadedData(DatasetKind.FashionMnist, train, test, dir, $"Using Fashion-MNIST from {dir} ({why}).")
        {
            Banner = $"Using Fashion-MNIST from {dir} ({brief}).",
        };
    }

    private static LoadedData LoadSynthetic(TrainConfig config, string why, string brief)
    {
        var (train, test) = SyntheticImages.Generate(new SyntheticOptions
        {
            Seed = config.Seed,
            TrainCount = config.TrainLimit is int t ? Math.Min(t, 50_000) : 50_000,
            TestCount = config.TestLimit is int v ? Math.Min(v, 10_000) : 10_000,
        });
        return new LoadedData(DatasetKind.Synthetic, train, test, null, $"Using the synthetic CIFAR-10-shaped set, seed {config.Seed} ({why}).")
        {
            Banner = $"Using the synthetic CIFAR-10-shaped set, seed {config.Seed} ({brief}).",
        };
    }
}
