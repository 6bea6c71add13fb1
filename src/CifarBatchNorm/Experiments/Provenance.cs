using System.Globalization;
using System.Reflection;

namespace CifarBatchNorm.Experiments;

/// <summary>Where a result came from: the code's commit, the tool's version, the machine and the exact command.</summary>
/// <param name="Commit">The git commit the library was built from (the SDK writes it into the informational version), or <c>unknown</c>.</param>
/// <param name="Version">The library's version.</param>
/// <param name="Machine">OS, CPU model, cores, .NET and TorchSharp versions.</param>
/// <param name="Command">The command line of the process, as typed (<c>cifar-bn compare ...</c>).</param>
/// <param name="StartedUtc">When the process started the work.</param>
public sealed record Provenance(string Commit, string Version, string Machine, string Command, DateTimeOffset StartedUtc)
{
    /// <summary>The commands that continued the work after an interruption (<c>compare --resume</c>), in order.</summary>
    public IReadOnlyList<string> ResumedBy { get; init; } = [];

    /// <summary>The provenance of the current process.</summary>
    public static Provenance Capture() =>
        new(BuildCommit(), NotebookExperiment.Version, MachineInfo.Describe(), CommandLine(), DateTimeOffset.UtcNow);

    /// <summary>The commit part of the library's informational version (<c>1.0.0+abc123...</c>), or <c>unknown</c>.</summary>
    public static string BuildCommit()
    {
        string? informational = typeof(Provenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        int plus = informational?.IndexOf('+', StringComparison.Ordinal) ?? -1;
        return plus >= 0 ? informational![(plus + 1)..] : "unknown";
    }

    /// <summary>
    /// The process's command line with the program named as users type it: <c>cifar-bn</c> for the command-line
    /// tool (run as <c>cifar-bn</c> or <c>dotnet cifar-bn.dll</c>), else the program's file name.
    /// </summary>
    public static string CommandLine()
    {
        string[] args = Environment.GetCommandLineArgs();
        string program = args.Length > 0 ? Path.GetFileNameWithoutExtension(args[0]) : "unknown";
        return string.Join(' ', new[] { program }.Concat(args.Skip(1).Select(Quote)));
    }

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./=,:+@%".Contains(c, StringComparison.Ordinal))
            ? arg
            : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>This provenance with <paramref name="command"/> added to <see cref="ResumedBy"/>.</summary>
    public Provenance Resumed(string command) => this with { ResumedBy = [.. ResumedBy, command] };

    /// <summary>One line: commit, version, command.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"commit {Commit}, cifar-bn {Version}, `{Command}`");
}
