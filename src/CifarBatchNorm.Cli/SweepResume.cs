using System.CommandLine;
using System.CommandLine.Parsing;

namespace CifarBatchNorm.Cli;

/// <summary>What <c>compare</c> and <c>analyze</c> share to continue an interrupted sweep: the option, its rule, and the Ctrl+C line.</summary>
internal static class SweepResume
{
    /// <summary>The <c>--resume DIR</c> option of a sweep command.</summary>
    public static Option<string?> Option(string description) => new("--resume") { Description = description };

    /// <summary>Refuses every option but <c>--resume</c> itself: a resumed sweep keeps its own settings.</summary>
    /// <exception cref="ArgumentException">Another option was given (a usage error, exit code 2).</exception>
    public static void RefuseOtherOptions(ParseResult result, string what)
    {
        var others = result.CommandResult.Children.OfType<OptionResult>()
            .Where(o => !o.Implicit && o.Option.Name != "--resume").Select(o => o.Option.Name).ToList();
        if (others.Count > 0)
        {
            throw new ArgumentException($"--resume continues {what} with its own settings; {string.Join(", ", others)} cannot change them.", "CompareConfig.Resume");
        }
    }

    /// <summary>Runs <paramref name="run"/>, turning Ctrl+C into one line that says what is kept in <paramref name="folder"/> and how to continue.</summary>
    public static T Guard<T>(string folder, string command, Func<string> kept, Func<T> run)
    {
        try
        {
            return run();
        }
        catch (OperationCanceledException) when (File.Exists(Path.Combine(folder, Experiments.SweepFolder.RecordFile)))
        {
            throw new RunStoppedException(
                $"Interrupted. {kept()} in {folder}; continue with: {CliName.Command($"{command} --resume {CliOptions.ShellQuote(folder)}")}",
                ExitCodes.Interrupted);
        }
    }
}
