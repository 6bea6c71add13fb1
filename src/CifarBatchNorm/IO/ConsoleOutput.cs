namespace CifarBatchNorm.IO;

/// <summary>The one place that decides whether output goes to a person at a terminal (live progress) or to a file or pipe (plain lines).</summary>
internal static class ConsoleOutput
{
    /// <summary>Whether <paramref name="writer"/> is this process's console and the console is a terminal.</summary>
    public static bool IsInteractive(TextWriter writer) => ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>
    /// The terminal's width for output written to <paramref name="writer"/>, read each time it is called (windows
    /// are resized), or <c>null</c> when the writer is not the interactive console or the width is unknown.
    /// </summary>
    public static Func<int?>? Width(TextWriter writer) => IsInteractive(writer) ? ConsoleWidth : null;

    private static int? ConsoleWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : null;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }
}
