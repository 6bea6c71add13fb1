using System.CommandLine;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Cli;

/// <summary>
/// The command line: parses, wires and prints; the work is in the library. User errors end as one line on
/// standard error and a non-zero exit code, never a stack trace.
/// </summary>
internal static class App
{
    /// <summary>
    /// Whether the command <paramref name="args"/> select stops cleanly on Ctrl+C / SIGTERM (it observes the
    /// cancellation token), as the command declares (<see cref="CliCommand.StopsGracefully"/>); for the others the signal
    /// ends the process instead of being swallowed. The root command runs <c>train</c>, and stops as it does.
    /// </summary>
    public static bool StopsGracefully(string[] args)
    {
        var root = Build(new CliSession(TextWriter.Null, TextWriter.Null, CancellationToken.None));
        var command = root.Parse(args).CommandResult.Command;
        return (command is RootCommand ? root.Subcommands.OfType<CliCommand>().Single(c => c.Name == "train") : command) is CliCommand { StopsGracefully: true };
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var cli = new CliSession(stdout, stderr, cancellationToken);
        var root = Build(cli);
        var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        var parsed = root.Parse(args);
        cli.Parsed = parsed;
        if (parsed.Errors.Count > 0 && !CliHelp.IsHelp(parsed))   // --help wins over a missing required option
        {
            foreach (string line in CliSuggestions.ErrorLines(parsed))   // "did you mean --epochs?" for a typo
            {
                stderr.WriteLine(line);
            }

            stderr.WriteLine($"Run '{HelpCommand(parsed)}' for the options.");
            return ExitCodes.UsageError;
        }

        try
        {
            return parsed.Invoke(invocation);
        }
        catch (RunStoppedException e)
        {
            stderr.WriteLine(e.Message);
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("Interrupted before anything worth keeping was finished; no output folder was left behind.");
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"error: {CliMessages.ForUser(e)}");
            return CliMessages.IsOptionError(e) ? ExitCodes.UsageError : ExitCodes.UserError;
        }
    }

    /// <summary>The help command of the (sub)command that was parsed, e.g. <c>cifar-bn compare --help</c>.</summary>
    private static string HelpCommand(ParseResult parsed) =>
        CliName.Command(parsed.CommandResult.Command is RootCommand ? "--help" : $"{string.Join(' ', CommandPath(parsed.CommandResult.Command))} --help");

    /// <summary>The names of <paramref name="command"/> and the commands above it, below the root: <c>compare merge</c>.</summary>
    private static IEnumerable<string> CommandPath(Command command) =>
        command.Parents.OfType<Command>().FirstOrDefault() is { } parent and not RootCommand ? CommandPath(parent).Append(command.Name) : [command.Name];

    private static RootCommand Build(CliSession cli)
    {
        var root = new RootCommand("The Batch Normalization CIFAR-10 notebook in .NET: train (default), summary, evaluate, download, compare, analyze, bench, predict, export.");
        var train = TrainCommand.Create(cli);
        foreach (var option in train.Options)
        {
            root.Options.Add(option);
        }

        root.Action = train.Action;
        root.Subcommands.Add(train);
        root.Subcommands.Add(SummaryCommand.Create(cli));
        root.Subcommands.Add(EvaluateCommand.Create(cli));
        root.Subcommands.Add(DownloadCommand.Create(cli));
        root.Subcommands.Add(CompareCommand.Create(cli));
        root.Subcommands.Add(AnalyzeCommand.Create(cli));
        root.Subcommands.Add(BenchCommand.Create(cli));
        root.Subcommands.Add(PredictCommand.Create(cli));
        root.Subcommands.Add(ExportCommand.Create(cli));
        CliHelp.AddTo(root);
        return root;
    }

    private static bool IsUserError(Exception e) => e is DatasetNotFoundException or DataFormatException or ModelFileException
        or Data.Download.DownloadException
        or TrainingDivergedException or IOException or UnauthorizedAccessException or ArgumentException;
}
