namespace CifarBatchNorm.Cli;

/// <summary>
/// How the user started this command line, for every message that prints a command to run next (the resume line
/// after Ctrl+C, the help hint, the report and merge hints): <c>cifar-bn</c> for the installed tool, or
/// <c>dotnet run --project src/CifarBatchNorm.Cli -c Release --</c> when it runs from a build of the repository.
/// </summary>
/// <remarks>
/// The signal is where the entry assembly lies, which does not depend on how the process was launched (both
/// <c>dotnet run</c> and the tool shim start the same apphost, so the process path cannot tell them apart, and
/// <c>dotnet run</c> sets no environment variable of its own without a launch profile): <c>dotnet run</c> runs the
/// build output in the project's <c>bin/&lt;Configuration&gt;/&lt;framework&gt;/</c> folder, beside which the
/// project file <c>CifarBatchNorm.Cli.csproj</c> lies; the installed tool runs from the tool store
/// (<c>~/.dotnet/tools/.store/cifar-bn/...</c>) and a published copy from its publish folder, where no project file is.
/// </remarks>
internal static class CliName
{
    /// <summary>The project file whose build output <c>dotnet run</c> runs.</summary>
    internal const string ProjectFile = "CifarBatchNorm.Cli.csproj";

    /// <summary>The installed tool's command.</summary>
    internal const string Tool = "cifar-bn";

    /// <summary>The command that starts this command line, as the user ran it (the installed tool's name, or the <c>dotnet run</c> line).</summary>
    public static string Prefix { get; } = For(AppContext.BaseDirectory, Environment.CurrentDirectory);

    /// <summary>The full command line that runs <paramref name="arguments"/>, e.g. <c>cifar-bn train --resume runs/a</c>.</summary>
    public static string Command(string arguments) => $"{Prefix} {arguments}";

    /// <summary>
    /// The prefix for an entry assembly in <paramref name="baseDirectory"/>, seen from <paramref name="currentDirectory"/>:
    /// the <c>dotnet run</c> line (project path relative to the current folder, the build's configuration) when the
    /// folder is a <c>bin/&lt;Configuration&gt;/...</c> folder of the CLI project, else <c>cifar-bn</c>.
    /// </summary>
    internal static string For(string baseDirectory, string currentDirectory)
    {
        ArgumentNullException.ThrowIfNull(baseDirectory);
        ArgumentNullException.ThrowIfNull(currentDirectory);
        var dir = new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseDirectory)));
        string? below = null;   // the folder under bin/ on the way up: the configuration
        for (int depth = 0; dir is not null && depth < 5; depth++)
        {
            if (dir.Name == "bin" && below is not null && dir.Parent is { } project && File.Exists(Path.Combine(project.FullName, ProjectFile)))
            {
                string relative = Path.GetRelativePath(currentDirectory, project.FullName);
                return $"dotnet run --project {CliOptions.ShellQuote(relative)} -c {CliOptions.ShellQuote(below)} --";
            }

            below = dir.Name;
            dir = dir.Parent;
        }

        return Tool;
    }
}
