namespace CifarBatchNorm.IO;

/// <summary>The one place that decides whether output goes to a person at a terminal (live progress) or to a file or pipe (plain lines).</summary>
internal static class ConsoleOutput
{
    /// <summary>Whether <paramref name="writer"/> is this process's console and the console is a terminal.</summary>
    public static bool IsInteractive(TextWriter writer) => ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
}
