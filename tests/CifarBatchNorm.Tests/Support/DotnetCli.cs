using System.Diagnostics;

namespace CifarBatchNorm.Tests.Support;

/// <summary>What a finished <c>dotnet</c> command printed and returned.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Error)
{
    /// <summary>Everything printed, for assertion messages.</summary>
    public string Transcript => $"exit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";
}

/// <summary>
/// Runs the <c>dotnet</c> CLI as a child process, isolated from the MSBuild that runs the tests: no inherited
/// MSBuild variables, no build nodes or compiler servers left behind (they would hold the output pipes open).
/// </summary>
internal static class DotnetCli
{
    public static CommandResult Run(string workingDirectory, IReadOnlyList<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:F0} s.");
        }

        // A leftover grandchild could keep a pipe open: give the readers a bounded time after the exit.
        Task.WaitAll(new Task[] { output, error }, TimeSpan.FromSeconds(30));
        return new CommandResult(process.ExitCode, output.IsCompleted ? output.Result : "", error.IsCompleted ? error.Result : "");
    }
}
