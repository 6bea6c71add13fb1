using System.Globalization;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>
/// The command line packed once per test class as the .NET tool <c>cifar-bn</c> into a temporary local feed, for
/// linux-x64 only (the tool packages of the other platforms differ only in their native files), with a unique
/// prerelease version. Build output goes to a temporary artifacts folder. Disposing deletes everything.
/// </summary>
public sealed class PackedTool : IDisposable
{
    private readonly TempDirectory _root = new();

    public PackedTool()
    {
        VersionSuffix = "tool" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        Feed = _root.Combine("feed");
        PackResult = DotnetCli.Run(RepositoryRoot.Path,
        [
            "pack", RepositoryRoot.Combine("src", "CifarBatchNorm.Cli", "CifarBatchNorm.Cli.csproj"), "-c", "Release", "-o", Feed,
            "--version-suffix", VersionSuffix, "--artifacts-path", _root.Combine("artifacts"), "-p:ToolPackageRuntimeIdentifiers=linux-x64",
            "-nodeReuse:false", "-nologo",
        ], TimeSpan.FromMinutes(6));
        Version = "0.1.0-" + VersionSuffix;
    }

    /// <summary>The prerelease label given to this pack.</summary>
    public string VersionSuffix { get; }

    /// <summary>The package version, e.g. 0.1.0-tool20260101120000000.</summary>
    public string Version { get; }

    /// <summary>The local feed folder holding the pointer package cifar-bn and cifar-bn.linux-x64.</summary>
    public string Feed { get; }

    /// <summary>What dotnet pack printed.</summary>
    public CommandResult PackResult { get; }

    /// <summary>A scratch folder outside the repository that lives as long as the package.</summary>
    public string Scratch(string name)
    {
        string path = _root.Combine(name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose() => _root.Dispose();
}
