using System.CommandLine;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Cli;

/// <summary><c>analyze</c>: landscape smoothness and activation drift per variant, with plots and a report section.</summary>
internal static class AnalyzeCommand
{
    public static CliCommand Create(CliSession cli)
    {
        var stdout = cli.Stdout;
        var variants = CliOptions.Variants("bn,none");
        var seeds = CliOptions.Int("--seeds", 3, AnalyzeConfig.SeedsRange, "Runs per variant (--seed, --seed + 1, ...); the report gives means and ranges over them");
        var probeEvery = CliOptions.Int("--probe-every", 50, AnalyzeConfig.ProbeEveryRange, "Probe every N training steps");
        var probeBatch = CliOptions.Int("--probe-batch", 256, AnalyzeConfig.ProbeBatchRange, "Images in the fixed probe batch");
        var output = CliOptions.Output("Folder to create (default: runs/analyze-<time>)");
        var shared = new TrainingOptions();
        var command = new CliCommand("analyze", "Measure loss-landscape smoothness and activation drift during training, per variant.", stopsGracefully: true)
        {
            variants, seeds, probeEvery, probeBatch, output,
        };
        shared.AddTo(command);
        var resume = SweepResume.Option("Continue the interrupted analysis in this folder: measured variants are kept, the others are measured");
        command.Options.Add(resume);
        command.SetAction(result =>
        {
            if (result.GetValue(resume) is string resumeDir)
            {
                SweepResume.RefuseOtherOptions(result, "an analysis");
                string dir = Path.GetFullPath(resumeDir);
                Guard(dir, () => AnalyzeRunner.Resume(cli.Session, dir, r => WriteReport(stdout, dir, r)));
                return ExitCodes.Success;
            }

            var config = new AnalyzeConfig
            {
                Variants = CliOptions.ParseVariants(result.GetValue(variants)!),
                Seeds = result.GetValue(seeds),
                ProbeEvery = result.GetValue(probeEvery),
                ProbeBatch = result.GetValue(probeBatch),
                Training = shared.ToConfig(result),
            };
            string folder = Path.GetFullPath(result.GetValue(output) ?? TrainingOptions.DefaultFolder("analyze"));
            Guard(folder, () => AnalyzeRunner.Run(cli.Session, config, folder, extra: null, r => WriteReport(stdout, folder, r)));
            return ExitCodes.Success;
        });
        return command;
    }

    private static AnalyzeResult Guard(string folder, Func<AnalyzeResult> run) =>
        SweepResume.Guard(folder, "analyze", () => $"{AnalyzeRunner.Progress(folder)} and kept", run);

    /// <summary>Writes the plots and report while the analysis still holds its folder's lock.</summary>
    private static void WriteReport(TextWriter stdout, string folder, AnalyzeResult measured)
    {
        Reporting.AnalysisReport.Write(folder, measured);
        stdout.WriteLine($"Plots and report: {folder}");
    }
}
