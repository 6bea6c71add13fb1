using System.CommandLine;
using System.Globalization;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Cli;

/// <summary><c>analyze</c>: landscape smoothness and activation drift per variant, with plots and a report section.</summary>
internal static class AnalyzeCommand
{
    public static Command Create(TextWriter stdout, CancellationToken cancellationToken)
    {
        var variants = new Option<string>("--variants")
        {
            Description = "Comma-separated variants: bn, none, bn-before-relu, renorm",
            DefaultValueFactory = _ => "bn,none",
            Validators = { r => { try { CompareCommand.ParseVariants(r.GetValueOrDefault<string>()!); } catch (ArgumentException e) { r.AddError(e.Message); } catch (InvalidOperationException) { } } },
        };
        var probeEvery = CliOptions.Int("--probe-every", 50, 1, 1_000_000, "Probe every N training steps");
        var probeBatch = CliOptions.Int("--probe-batch", 256, 2, 4096, "Images in the fixed probe batch");
        var epochs = CliOptions.Int("--epochs", 10, 1, 100_000, "Epochs per variant");
        var batchSize = CliOptions.Int("--batch-size", 256, 1, 65_536, "Samples per step");
        var learningRate = CliOptions.LearningRate();
        var seed = CliOptions.Int("--seed", 42, int.MinValue, int.MaxValue, "Seed");
        var dataset = CliOptions.Dataset();
        var dataDir = CliOptions.DataDir();
        var bnMomentum = CliOptions.BnMomentum();
        var threads = CliOptions.OptionalInt("--threads", 1, 1024, "Intra-op threads (default: all cores)");
        var trainLimit = CliOptions.OptionalInt("--train-limit", 1, int.MaxValue, "Use only the first N training images");
        var testLimit = CliOptions.OptionalInt("--test-limit", 1, int.MaxValue, "Use only the first N test images");
        var output = new Option<string?>("--output", "-o") { Description = "Folder to create (default: runs/analyze-<time>)" };
        var command = new Command("analyze", "Measure loss-landscape smoothness and activation drift during training, per variant.")
        {
            variants, probeEvery, probeBatch, epochs, batchSize, learningRate, seed, dataset, dataDir, bnMomentum, threads, trainLimit, testLimit, output,
        };
        command.SetAction(result =>
        {
            var config = new AnalyzeConfig
            {
                Variants = CompareCommand.ParseVariants(result.GetValue(variants)!),
                ProbeEvery = result.GetValue(probeEvery),
                ProbeBatch = result.GetValue(probeBatch),
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
            string folder = result.GetValue(output) ?? Path.Combine("runs", $"analyze-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
            AnalyzeRunner.Run(config, folder, stdout, cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }
}
