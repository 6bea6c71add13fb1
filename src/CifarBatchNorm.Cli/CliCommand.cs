using System.CommandLine;

namespace CifarBatchNorm.Cli;

/// <summary>
/// A command of <c>cifar-bn</c> that says how it meets Ctrl+C / SIGTERM: a command that observes the cancellation
/// token between two steps and keeps its work stops gracefully on the first signal; for the others the signal ends
/// the process at once instead of being swallowed.
/// </summary>
/// <param name="name">The command's name.</param>
/// <param name="description">One line for the help.</param>
/// <param name="stopsGracefully">Whether the command observes the cancellation token and stops cleanly.</param>
internal sealed class CliCommand(string name, string description, bool stopsGracefully) : Command(name, description)
{
    /// <summary>Whether the first Ctrl+C or SIGTERM asks this command to stop between two steps.</summary>
    public bool StopsGracefully { get; } = stopsGracefully;

    /// <summary>
    /// The device of the command's session when it has no <c>--device</c> option. The default value is <c>cpu</c>:
    /// those commands (summary, bench, predict, export) run where they always ran.
    /// </summary>
    public string Device { get; init; } = "cpu";
}
