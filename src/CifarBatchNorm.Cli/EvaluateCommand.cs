using System.CommandLine;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Cli;

/// <summary><c>evaluate</c>: a trained model on its dataset's test split.</summary>
internal static class EvaluateCommand
{
    public static CliCommand Create(CliSession cli)
    {
        var model = new Option<string>("--weights", "-w", "--model", "-m")   // --model/-m: the name evaluate had before predict and export
        {
            Description = "A run folder, a weights file inside one, a .keras archive, a tf.keras 2 model.save .h5, or bare weights with --architecture (--model/-m is the same option)",
            Required = true,
        };
        var dataDir = CliOptions.DataDir();
        var device = CliOptions.Device();
        var dataset = CliOptions.Dataset();
        dataset.Description = "The dataset to evaluate on (its images must have the model's input shape): auto (the run's; for a model from elsewhere, the one its input shape names), cifar10, fashion-mnist or synthetic";
        var architecture = CliOptions.Architecture();
        var testLimit = CliOptions.OptionalInt("--test-limit", TrainConfig.LimitRange, "Evaluate on the first N test images only (default: the run's own limit)");
        var wholeTestSet = new Option<bool>("--whole-test-set") { Description = "Evaluate on every test image, even when the run trained with --test-limit" };
        var command = new CliCommand("evaluate", "Evaluate a trained model on a dataset's test split (the run's own by default).", stopsGracefully: false)
        {
            model, dataDir, device, dataset, architecture, testLimit, wholeTestSet,
        };
        command.SetAction(result =>
        {
            NotebookExperiment.Evaluate(cli.Session, result.GetValue(model)!, result.GetValue(dataDir),
                DatasetSelector.Parse(result.GetValue(dataset)!), result.GetValue(architecture), result.GetValue(testLimit), result.GetValue(wholeTestSet));
            return ExitCodes.Success;
        });
        return command;
    }
}
