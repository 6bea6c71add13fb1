using System.CommandLine;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Cli;

/// <summary><c>compare</c>: every variant with every seed, then results, plots and a report.</summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var variants = CliOptions.Variants("bn,none,bn-before-relu");
        var seeds = CliOptions.Int("--seeds", 3, CompareConfig.SeedsRange, "Seeds per variant (--seed, --seed + 1, ...)");
        var target = new Option<double>("--target-accuracy")
        {
            Description = "Validation accuracy counted in 'epochs to target'",
            DefaultValueFactory = _ => 0.85,
        };
        var output = CliOptions.Output("Folder to create (default: runs/compare-<time>)");
        var shared = new TrainingOptions();
        var command = new Command("compare", "Train each normalization variant with each seed; write results, plots and report.md.")
        {
            variants, seeds, target, output,
        };
        shared.AddTo(command);
        command.SetAction(result =>
        {
            var config = new CompareConfig
            {
                Variants = CliOptions.ParseVariants(result.GetValue(variants)!),
                Seeds = result.GetValue(seeds),
                TargetAccuracy = result.GetValue(target),
                Training = shared.ToConfig(result),
            };
            RuntimeStartup.Initialize(config.Training.Threads, stderr);
            string folder = Path.GetFullPath(result.GetValue(output) ?? TrainingOptions.DefaultFolder("compare"));
            var measured = CompareRunner.Run(config, folder, stdout, cancellationToken);
            Reporting.CompareReport.Write(folder, measured);
            stdout.WriteLine($"Plots and report: {folder}");
            return ExitCodes.Success;
        });
        return command;
    }

}
