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
        var resume = new Option<string?>("--resume") { Description = "Continue the interrupted analysis in this folder: measured variants are kept, the others are measured" };
        command.Options.Add(resume);
        command.SetAction(result =>
        {
            if (result.GetValue(resume) is string resumeDir)
            {
                var others = result.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>()
                    .Where(o => !o.Implicit && o.Option.Name != "--resume").Select(o => o.Option.Name).ToList();
                if (others.Count > 0)
                {
                    throw new ArgumentException(
                        $"--resume continues an analysis with its own settings; {string.Join(", ", others)} cannot change them.", "CompareConfig.Resume");
                }

                string dir = Path.GetFullPath(resumeDir);
                RuntimeStartup.Initialize(null, stderr);
                return Finish(stdout, dir, Guard(dir, () => AnalyzeRunner.Resume(dir, stdout, cancellationToken)));
            }

            var config = new AnalyzeConfig
            {
                Variants = CliOptions.ParseVariants(result.GetValue(variants)!),
                ProbeEvery = result.GetValue(probeEvery),
                ProbeBatch = result.GetValue(probeBatch),
                Training = shared.ToConfig(result),
            };
            RuntimeStartup.Initialize(config.Training.Threads, stderr);
            string folder = Path.GetFullPath(result.GetValue(output) ?? TrainingOptions.DefaultFolder("analyze"));
            return Finish(stdout, folder, Guard(folder, () => AnalyzeRunner.Run(config, folder, stdout, cancellationToken)));
        });
        return command;
    }

    /// <summary>Turns Ctrl+C into one line that says what is kept and how to continue.</summary>
    private static AnalyzeResult Guard(string folder, Func<AnalyzeResult> run)
    {
        try
        {
            return run();
        }
        catch (OperationCanceledException) when (File.Exists(Path.Combine(folder, AnalyzeRunner.SweepFile)))
        {
            throw new RunStoppedException(
                $"Interrupted. {AnalyzeRunner.Progress(folder)} and kept in {folder}; continue with: cifar-bn analyze --resume {CliOptions.ShellQuote(folder)}",
                ExitCodes.Interrupted);
        }
    }

    private static int Finish(TextWriter stdout, string folder, AnalyzeResult measured)
    {
        Reporting.AnalysisReport.Write(folder, measured);
        stdout.WriteLine($"Plots and report: {folder}");
        return ExitCodes.Success;
    }
}
