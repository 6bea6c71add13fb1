using System.Diagnostics;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>Debian's python3 with the modules an oracle needs; tests skip with the reason and the install command when missing.</summary>
internal static class Python
{
    private static readonly string Executable = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Skips the calling test unless python3 can import <paramref name="modules"/>.</summary>
    public static void Require(params string[] modules)
    {
        var (code, _, error) = Run($"import {string.Join(", ", modules)}");
        string packages = string.Join(' ', modules.Select(m => $"python3-{m}"));
        string reason = $"python3 cannot import {string.Join(", ", modules)} ({error.Trim().Split('\n')[^1]}); install with: apt-get install {packages}";
        Assert.False(code != 0 && Environment.GetEnvironmentVariable(Support.RequiredData.RequireVariable) == "1", $"{reason} ({Support.RequiredData.RequireVariable}=1 makes this a failure)");
        Skip.If(code != 0, reason);
    }

    /// <summary>Runs a script with arguments; returns exit code, stdout, stderr.</summary>
    public static (int Code, string Output, string Error) Run(string script, params string[] args)
    {
        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output.Result, error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, string.Empty, $"python3 not found: {e.Message}");
        }
    }
}
