using System.CommandLine;
using System.Globalization;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Cli;

/// <summary><c>compare</c>: every variant with every seed, then results, plots and a report.</summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter stdout, CancellationToken cancellationToken)
    {
        var variants = new Option<string>("--variants")
        {
            Description = "Comma-separated variants: bn, none, bn-before-relu, renorm",
            DefaultValueFactory = _ => "bn,none,bn-before-relu",
            Validators = { r => { try { ParseVariants(r.GetValueOrDefault<string>()!); } catch (ArgumentException e) { r.AddError(e.Message); } catch (InvalidOperationException) { } } },
        };
        var seeds = CliOptions.Int("--seeds", 3, 1, 100, "Seeds per variant (base seed, base seed + 1, ...)");
        var epochs = CliOptions.Int("--epochs", 10, 1, 100_000, "Epochs per run");
        var batchSize = CliOptions.Int("--batch-size", 256, 1, 65_536, "Samples per step (4 or 8 reproduces the renorm paper's small-batch setting)");
        var learningRate = CliOptions.LearningRate();
        var seed = CliOptions.Int("--seed", 42, int.MinValue, int.MaxValue - 100, "Base seed");
        var dataset = CliOptions.Dataset();
        var dataDir = CliOptions.DataDir();
        var bnMomentum = CliOptions.BnMomentum();
        var threads = CliOptions.OptionalInt("--threads", 1, 1024, "Intra-op threads (default: all cores)");
        var trainLimit = CliOptions.OptionalInt("--train-limit", 1, int.MaxValue, "Use only the first N training images");
        var testLimit = CliOptions.OptionalInt("--test-limit", 1, int.MaxValue, "Use only the first N test images");
        var target = new Option<double>("--target-accuracy")
        {
            Description = "Validation accuracy counted in 'epochs to target'",
            DefaultValueFactory = _ => 0.85,
        };
        var output = new Option<string?>("--output", "-o") { Description = "Folder to create (default: runs/compare-<time>)" };
        var command = new Command("compare", "Train each normalization variant with each seed; write results, plots and report.md.")
        {
            variants, seeds, epochs, batchSize, learningRate, seed, dataset, dataDir, bnMomentum, threads, trainLimit, testLimit, target, output,
        };
        command.SetAction(result =>
        {
            var config = new CompareConfig
            {
                Variants = ParseVariants(result.GetValue(variants)!),
                Seeds = result.GetValue(seeds),
                TargetAccuracy = result.GetValue(target),
                Training = new TrainConfig
                {
                    Dataset = DatasetSelector.Parse(result.GetValue(dataset)!),
                    DataDir = result.GetValue(dataDir),
                    Epochs = result.GetValue(epochs),
                    BatchSize = result.GetValue(batchSize),
                    LearningRate = result.GetValue(learningRate),
                    Seed = result.GetValue(seed),
                    Threads = result.GetValue(threads),
                    TrainLimit = result.GetValue(trainLimit),
                    TestLimit = result.GetValue(testLimit),
                    BnMomentum = result.GetValue(bnMomentum),
                },
            };
            string folder = result.GetValue(output) ?? Path.Combine("runs", $"compare-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
            CompareRunner.Run(config, folder, stdout, cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    internal static NormalizationVariant[] ParseVariants(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ModelPresets.ParseVariant).ToArray();
}
