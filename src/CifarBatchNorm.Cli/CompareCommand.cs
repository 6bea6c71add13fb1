using System.CommandLine;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Cli;

/// <summary><c>compare</c>: every variant with every seed, then results, plots and a report.</summary>
internal static class CompareCommand
{
    public static CliCommand Create(CliSession cli)
    {
        var stdout = cli.Stdout;
        var variants = CliOptions.Variants("bn,none,bn-before-relu");
        var seeds = CliOptions.Int("--seeds", 3, CompareConfig.SeedsRange, "Seeds per variant (--seed, --seed + 1, ...)");
        var target = new Option<double>("--target-accuracy")
        {
            Description = "Validation accuracy counted in 'epochs to target'",
            DefaultValueFactory = _ => 0.85,
        };
        var lossTarget = new Option<double>("--loss-target")
        {
            Description = "Training loss counted in 'steps to the loss target' (optimization speed)",
            DefaultValueFactory = _ => 0.5,
        };
        var halfLife = new Option<double>("--loss-half-life")
        {
            Description = "Half-life in steps of the moving average of the per-step training loss that 'steps to the loss target' reads",
            DefaultValueFactory = _ => 20,
        };
        var validationSplit = CliOptions.ValidationSplit();
        var learningRates = new Option<string?>("--learning-rates")
        {
            Description = "Comma-separated learning rates to run as a grid axis (default: --learning-rate only), e.g. 1e-3,1e-2,3e-2",
            Validators = { r => { if (r.GetValueOrDefault<string?>() is { Length: > 0 } v && ParseList(v, double.Parse) is null) { r.AddError($"--learning-rates '{r.GetValueOrDefault<string?>()}' is not a comma-separated list of numbers."); } } },
        };
        var batchSizes = new Option<string?>("--batch-sizes")
        {
            Description = "Comma-separated batch sizes to run as a grid axis (default: --batch-size only), e.g. 4,8",
            Validators = { r => { if (r.GetValueOrDefault<string?>() is { Length: > 0 } v && ParseList(v, int.Parse) is null) { r.AddError($"--batch-sizes '{r.GetValueOrDefault<string?>()}' is not a comma-separated list of whole numbers."); } } },
        };
        var shard = new Option<string?>("--shard")
        {
            Description = "Run only shard K of N of the grid (e.g. 2/4), for array jobs; join the shards with 'compare merge'",
            Validators = { r => { if (r.GetValueOrDefault<string?>() is string v) { try { ShardSpec.Parse(v); } catch (ArgumentException e) { r.AddError(CliMessages.ForUser(e)); } } } },
        };
        var output = CliOptions.Output("Folder to create (default: runs/compare-<time>)");
        var resume = SweepResume.Option("Continue the interrupted comparison in this folder: finished runs are kept, the interrupted one continues from its checkpoint");
        var shared = new TrainingOptions();
        var command = new CliCommand("compare", "Train each normalization variant with each seed; write results, plots and report.md.", stopsGracefully: true)
        {
            variants, seeds, target, lossTarget, halfLife, validationSplit, learningRates, batchSizes, shard, output, resume,
        };
        command.Subcommands.Add(MergeCommand(stdout, cli.CancellationToken));
        command.Subcommands.Add(ReportCommand(stdout));
        shared.AddTo(command);
        command.SetAction(result =>
        {
            if (result.GetValue(resume) is string resumeDir)
            {
                SweepResume.RefuseOtherOptions(result, "a comparison");
                string dir = Path.GetFullPath(resumeDir);
                if (NeedsOnlyItsReport(dir))
                {
                    throw new ModelFileException(
                        $"{dir} holds a complete comparison whose report was not written (the process stopped while writing it); write it with: {CliName.Command($"compare report {CliOptions.ShellQuote(dir)}")}");
                }

                return Finish(stdout, Guard(dir, () => CompareRunner.Resume(cli.Session, dir, r => WriteReport(stdout, dir, r))));
            }

            var config = new CompareConfig
            {
                Variants = CliOptions.ParseVariants(result.GetValue(variants)!),
                Seeds = result.GetValue(seeds),
                TargetAccuracy = result.GetValue(target),
                LossTarget = result.GetValue(lossTarget),
                LossHalfLifeSteps = result.GetValue(halfLife),
                LearningRates = ParseList(result.GetValue(learningRates), double.Parse),
                BatchSizes = ParseList(result.GetValue(batchSizes), int.Parse),
                Shard = result.GetValue(shard) is string k ? ShardSpec.Parse(k) : null,
                Training = shared.ToConfig(result) with { ValidationSplit = result.GetValue(validationSplit) },
            };
            string folder = Path.GetFullPath(result.GetValue(output) ?? TrainingOptions.DefaultFolder("compare"));
            return Finish(stdout, Guard(folder, () => CompareRunner.Run(cli.Session, config, folder, extra: null, r => WriteReport(stdout, folder, r))));
        });
        return command;
    }

    private static CompareResult Guard(string folder, Func<CompareResult> run) =>
        SweepResume.Guard(folder, "compare", () => $"{CompareRunner.Progress(folder)}; every finished run and the interrupted run's last epoch are kept", run);

    /// <summary>Writes the report of an unsharded comparison; called while the runner still holds the folder's lock.</summary>
    private static void WriteReport(TextWriter stdout, string folder, CompareResult measured)
    {
        if (measured.Config.Shard is null)
        {
            Reporting.CompareReport.Write(folder, measured);
            stdout.WriteLine($"Plots and report: {folder}");
        }
    }

    private static int Finish(TextWriter stdout, CompareResult measured)
    {
        if (measured.Config.Shard is not null)
        {
            stdout.WriteLine($"Shard {measured.Config.Shard} done; join the shards with: {CliName.Command($"compare merge DIR_1 ... DIR_{measured.Config.Shard.Count} --output DIR")}");
        }

        return ExitCodes.Success;
    }

    /// <summary>Whether <paramref name="dir"/> holds a complete, unsharded comparison without its report (stopped while writing it).</summary>
    private static bool NeedsOnlyItsReport(string dir) =>
        CompareRunner.IsComplete(dir) && !File.Exists(Path.Combine(dir, "report.md")) && CompareRunner.Read(dir).Config.Shard is null;

    private static CliCommand MergeCommand(TextWriter stdout, CancellationToken cancellationToken)
    {
        var shards = new Argument<string[]>("shard-folders") { Description = "The output folders of the compare --shard K/N runs", Arity = ArgumentArity.OneOrMore };
        var output = CliOptions.Output("Folder to create for the merged results, plots and report");
        var command = new CliCommand("merge", "Join the results of compare --shard runs into the results, plots and report of the whole sweep.", stopsGracefully: true) { shards, output };
        command.SetAction(result =>
        {
            string folder = Path.GetFullPath(result.GetValue(output) ?? TrainingOptions.DefaultFolder("compare"));
            var merged = CompareRunner.Merge(result.GetValue(shards)!, folder, cancellationToken);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new RunStoppedException(
                    $"Interrupted. The merged results are in {folder}; write their plots and report with: {CliName.Command($"compare report {CliOptions.ShellQuote(folder)}")}",
                    ExitCodes.Interrupted);
            }

            Reporting.CompareReport.Write(folder, merged);
            stdout.WriteLine($"Merged {merged.Config.Cells().Count()} runs; results, plots and report: {folder}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static CliCommand ReportCommand(TextWriter stdout)
    {
        var folder = new Argument<string>("folder") { Description = "The output folder of a comparison (it holds results.json)" };
        var command = new CliCommand("report", "Write a comparison's plots, report.md and report.html again from its results.json, without training.", stopsGracefully: false) { folder };
        command.SetAction(result =>
        {
            string dir = Path.GetFullPath(result.GetValue(folder)!);
            var read = CompareRunner.Read(dir);
            Reporting.CompareReport.Write(dir, read);
            stdout.WriteLine($"Plots and report of {read.Epochs.Select(e => (e.Variant, e.Seed, e.LearningRate, e.BatchSize)).Distinct().Count()} runs: {dir}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Parses <c>a,b,c</c>; <c>null</c> for no text, or (as an error) for a value that does not parse.</summary>
    internal static T[]? ParseList<T>(string? text, Func<string, IFormatProvider, T> parse)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(v => parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            return null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }
}
