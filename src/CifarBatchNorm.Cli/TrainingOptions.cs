using System.CommandLine;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Cli;

/// <summary>The options every training command shares (data, schedule, seed, runtime), and their mapping to <see cref="TrainConfig"/>.</summary>
internal sealed class TrainingOptions
{
    private readonly Option<string> _dataset = CliOptions.Dataset();
    private readonly Option<string?> _dataDir = CliOptions.DataDir();
    private readonly Option<string?> _url = CliOptions.Url();
    private readonly Option<bool> _noDownload = new("--no-download") { Description = "Never download CIFAR-10; use only files already there" };
    private readonly Option<int> _epochs = CliOptions.Int("--epochs", 10, TrainConfig.EpochsRange, "Epochs to train");

    /// <summary>The <c>--epochs</c> option (the one setting <c>--resume</c> accepts).</summary>
    public Option<int> Epochs => _epochs;
    private readonly Option<int> _batchSize = CliOptions.Int("--batch-size", 256, TrainConfig.BatchSizeRange, "Samples per training step (4 or 8 reproduces the renorm paper's small-batch setting)");
    private readonly Option<double> _learningRate = CliOptions.LearningRate();
    private readonly Option<int> _seed = CliOptions.Int("--seed", 42, TrainConfig.SeedRange, "Seed of initialisation, shuffling and synthetic data");
    private readonly Option<int?> _threads = CliOptions.OptionalInt("--threads", TrainConfig.ThreadsRange, "Intra-op threads (default: all cores)");
    private readonly Option<int?> _trainLimit = CliOptions.OptionalInt("--train-limit", TrainConfig.LimitRange, "Use only the first N training images");
    private readonly Option<int?> _testLimit = CliOptions.OptionalInt("--test-limit", TrainConfig.LimitRange, "Use only the first N test images");
    private readonly Option<double> _bnMomentum = CliOptions.BnMomentum();
    private readonly Option<string> _device = CliOptions.Device();
    private readonly Option<string> _optimizer = CliOptions.Optimizer();
    private readonly Option<string> _schedule = CliOptions.LearningRateSchedule();
    private readonly Option<double?> _weightDecay = CliOptions.WeightDecay();
    private readonly Option<double> _momentum = CliOptions.Momentum();
    private readonly Option<bool> _nesterov = new("--nesterov") { Description = "Nesterov momentum for --optimizer sgd" };
    private readonly Option<bool> _fusedKernels = new("--fused-kernels")
    {
        Description = "Train and evaluate with the fused ReLU + batch-norm (+ pooling) CPU kernels on every thread, a one-pass Adam update, channels-last, and oneDNN's AVX-512 convolutions (off by default: same values within float rounding, not the same bits)",
    };
    private readonly Option<string> _sampling = new("--batch-sampling")
    {
        Description = "iid (a uniform shuffle, the notebook's) or noniid (each minibatch from about two classes, Ioffe 2017 section 4.3)",
        DefaultValueFactory = _ => "iid",
        Validators = { r => { if (r.GetValueOrDefault<string>() is not ("iid" or "noniid")) { r.AddError($"--batch-sampling '{r.GetValueOrDefault<string>()}' is not iid or noniid."); } } },
    };

    /// <summary>Adds every shared option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        Option[] all = [_dataset, _dataDir, _url, _noDownload, _epochs, _batchSize, _learningRate, _seed, _threads, _trainLimit, _testLimit, _bnMomentum, _device, _sampling, _optimizer, _schedule, _weightDecay, _momentum, _nesterov, _fusedKernels];
        foreach (var option in all)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The config the parsed options describe (variant and callbacks left at their defaults).</summary>
    public TrainConfig ToConfig(ParseResult result) => new()
    {
        Dataset = DatasetSelector.Parse(result.GetValue(_dataset)!),
        DataDir = result.GetValue(_dataDir),
        DownloadUrl = result.GetValue(_url),
        Download = !result.GetValue(_noDownload),
        Epochs = result.GetValue(_epochs),
        BatchSize = result.GetValue(_batchSize),
        LearningRate = result.GetValue(_learningRate),
        Seed = result.GetValue(_seed),
        Threads = result.GetValue(_threads),
        TrainLimit = result.GetValue(_trainLimit),
        TestLimit = result.GetValue(_testLimit),
        BnMomentum = result.GetValue(_bnMomentum),
        Device = Runtime.DeviceSelector.Normalize(result.GetValue(_device)!),
        BatchSampling = result.GetValue(_sampling) == "noniid" ? Training.BatchSampling.NonIid : Training.BatchSampling.Iid,
        Optimizer = CliOptions.ParseOptimizer(result.GetValue(_optimizer)!),
        LearningRateSchedule = CliOptions.ParseSchedule(result.GetValue(_schedule)!),
        WeightDecay = result.GetValue(_weightDecay),
        Momentum = result.GetValue(_momentum),
        Nesterov = result.GetValue(_nesterov),
    };

    /// <summary>A default output folder under runs/ named after <paramref name="kind"/> and the time.</summary>
    public static string DefaultFolder(string kind) =>
        Path.GetFullPath(Path.Combine("runs", $"{kind}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture)}"));
}
