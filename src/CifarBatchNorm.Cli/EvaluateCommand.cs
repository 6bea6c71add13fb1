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
        var model = new Option<string>("--model", "-m") { Description = "A run folder or its model.pt", Required = true };
        var dataDir = CliOptions.DataDir();
        var device = CliOptions.Device();
        var command = new CliCommand("evaluate", "Evaluate a trained model on its dataset's test split.", stopsGracefully: false) { model, dataDir, device };
        command.SetAction(result =>
        {
            NotebookExperiment.Evaluate(cli.Session, result.GetValue(model)!, result.GetValue(dataDir));
            return ExitCodes.Success;
        });
        return command;
    }
}
