using System.CommandLine;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Cli;

/// <summary><c>analyze</c>: landscape smoothness and activation drift per variant, with plots and a report section.</summary>
internal static class AnalyzeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var variants = CliOptions.Variants("bn,none");
        var probeEvery = CliOptions.Int("--probe-every", 50, AnalyzeConfig.ProbeEveryRange, "Probe every N training steps");
        var probeBatch = CliOptions.Int("--probe-batch", 256, AnalyzeConfig.ProbeBatchRange, "Images in the fixed probe batch");
        var output = CliOptions.Output("Folder to create (default: runs/analyze-<time>)");
        var shared = new TrainingOptions();
        var command = new Command("analyze", "Measure loss-landscape smoothness and activation drift during training, per variant.")
        {
            variants, probeEvery, probeBatch, output,
        };
        shared.AddTo(command);
        command.SetAction(result =>
        {
            var config = new AnalyzeConfig
            {
                Variants = CliOptions.ParseVariants(result.GetValue(variants)!),
                ProbeEvery = result.GetValue(probeEvery),
                ProbeBatch = result.GetValue(probeBatch),
                Training = shared.ToConfig(result),
            };
            RuntimeStartup.Initialize(config.Training.Threads, stderr);
            string folder = Path.GetFullPath(result.GetValue(output) ?? TrainingOptions.DefaultFolder("analyze"));
            var measured = AnalyzeRunner.Run(config, folder, stdout, cancellationToken);
            Reporting.AnalysisReport.Write(folder, measured);
            stdout.WriteLine($"Plots and report: {folder}");
            return ExitCodes.Success;
        });
        return command;
    }
}
