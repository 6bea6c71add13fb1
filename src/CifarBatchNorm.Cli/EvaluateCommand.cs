using System.CommandLine;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Cli;

/// <summary><c>evaluate</c>: a trained model on its dataset's test split.</summary>
internal static class EvaluateCommand
{
    public static CliCommand Create(TextWriter stdout)
    {
        var model = new Option<string>("--model", "-m") { Description = "A run folder or its model.pt", Required = true };
        var dataDir = CliOptions.DataDir();
        var device = CliOptions.Device();
        var command = new CliCommand("evaluate", "Evaluate a trained model on its dataset's test split.", stopsGracefully: false) { model, dataDir, device };
        command.SetAction(result =>
        {
            RuntimeStartup.Initialize(null, TextWriter.Null);
            NotebookExperiment.Evaluate(result.GetValue(model)!, result.GetValue(dataDir), stdout, result.GetValue(device)!);
            return ExitCodes.Success;
        });
        return command;
    }
}
