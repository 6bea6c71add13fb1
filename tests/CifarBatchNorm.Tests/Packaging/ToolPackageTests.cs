using System.IO.Compression;
using CifarBatchNorm.Build;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>
/// The <c>cifar-bn</c> .NET tool as a user gets it: packed into a local feed, installed with
/// <c>dotnet tool install --tool-path</c> from that feed alone, and run from the tool folder.
/// </summary>
public sealed class ToolPackageTests(PackedTool packed) : IClassFixture<PackedTool>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public void Pack_gives_a_pointer_package_and_a_linux_package_with_the_patched_native_library()
    {
        Assert.True(packed.PackResult.ExitCode == 0, packed.PackResult.Transcript);
        Assert.True(File.Exists(Path.Combine(packed.Feed, $"cifar-bn.{packed.Version}.nupkg")), packed.PackResult.Transcript);
        string platform = Path.Combine(packed.Feed, $"cifar-bn.linux-x64.{packed.Version}.nupkg");
        Assert.True(File.Exists(platform), packed.PackResult.Transcript);

        using var zip = ZipFile.OpenRead(platform);
        var entries = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("tools/net10.0/linux-x64/DotnetToolSettings.xml", entries);
        Assert.Contains("tools/net10.0/linux-x64/cifar-bn.dll", entries);
        Assert.Contains("tools/net10.0/linux-x64/CifarBatchNorm.Reporting.dll", entries);
        Assert.DoesNotContain(entries, e => e.Contains("win-x64", StringComparison.Ordinal) || e.Contains("osx", StringComparison.Ordinal));
        var native = zip.GetEntry("tools/net10.0/linux-x64/libLibTorchSharp.so");
        Assert.NotNull(native);
        using var stream = new MemoryStream();
        using (var source = native!.Open())
        {
            source.CopyTo(stream);
        }

        byte[] image = stream.ToArray();
        long offset = LibTorchSharpPatch.FindFlagsOffset(image, LibTorchSharpPatch.VersionName);
        Assert.True(offset >= 0, $"the packed libLibTorchSharp.so has no {LibTorchSharpPatch.VersionName} requirement");
        Assert.True((image[offset] & LibTorchSharpPatch.VerFlagWeak) != 0, "the tool package holds the unpatched libLibTorchSharp.so");
    }

    [Fact]
    public void Tool_installs_from_the_local_feed_and_runs_summary_and_version()
    {
        Assert.True(OperatingSystem.IsLinux(), "installs the linux-x64 tool package");
        Assert.True(packed.PackResult.ExitCode == 0, packed.PackResult.Transcript);
        string tools = packed.Scratch("tools");
        string config = Path.Combine(packed.Scratch("config"), "nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packed.Feed}" />
              </packageSources>
            </configuration>
            """);

        var install = DotnetCli.Run(packed.Scratch("cwd"),
            ["tool", "install", "--tool-path", tools, "--configfile", config, "--add-source", packed.Feed, "cifar-bn", "--version", packed.Version], Timeout);
        Assert.True(install.ExitCode == 0, install.Transcript);
        string command = Path.Combine(tools, "cifar-bn");
        Assert.True(File.Exists(command), $"{command} missing after install:\n{install.Transcript}");

        var summary = RunTool(command, "summary");
        var version = RunTool(command, "--version");

        Assert.True(summary.ExitCode == 0, summary.Transcript);   // TorchSharp loaded: the native fix applies to the tool's copy
        Assert.Contains("Total params: 270,482", summary.Output);
        Assert.True(version.ExitCode == 0, version.Transcript);
        Assert.StartsWith(packed.Version, version.Output.Trim(), StringComparison.Ordinal);
    }

    private static CommandResult RunTool(string command, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(command)!,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        return new CommandResult(process.ExitCode, output.Result, error.Result);
    }
}
