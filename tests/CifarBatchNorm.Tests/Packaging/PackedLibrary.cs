using System.Globalization;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>
/// The library packages (CifarBatchNorm and CifarBatchNorm.Reporting) packed once per test class into a temporary
/// local feed, with a unique prerelease version so that no stale copy in the NuGet cache can stand in for them.
/// Build output goes to a temporary artifacts folder, so the repository's own bin/obj are not touched. Disposing
/// deletes the feed and that version's cache folders.
/// </summary>
public sealed class PackedLibrary : IDisposable
{
    private readonly TempDirectory _root = new();

    public PackedLibrary()
    {
        VersionSuffix = "test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        Feed = _root.Combine("feed");
        PackResult = Pack("CifarBatchNorm");
        ReportingPackResult = Pack("CifarBatchNorm.Reporting");
        Package = Directory.Exists(Feed) ? Directory.GetFiles(Feed, "CifarBatchNorm.0*.nupkg").SingleOrDefault() : null;
        ReportingPackage = Directory.Exists(Feed) ? Directory.GetFiles(Feed, "CifarBatchNorm.Reporting.*.nupkg").SingleOrDefault() : null;
        Version = Package is null ? "" : Path.GetFileNameWithoutExtension(Package)["CifarBatchNorm.".Length..];
    }

    /// <summary>The prerelease label given to this pack.</summary>
    public string VersionSuffix { get; }

    /// <summary>The local feed folder holding the .nupkg and .snupkg.</summary>
    public string Feed { get; }

    /// <summary>The library's .nupkg, or null when the pack failed (see <see cref="PackResult"/>).</summary>
    public string? Package { get; }

    /// <summary>The reporting package's .nupkg, or null when its pack failed (see <see cref="ReportingPackResult"/>).</summary>
    public string? ReportingPackage { get; }

    /// <summary>The package version, e.g. 0.1.0-test20260101120000000.</summary>
    public string Version { get; }

    /// <summary>What dotnet pack printed for the library.</summary>
    public CommandResult PackResult { get; }

    /// <summary>What dotnet pack printed for the reporting package.</summary>
    public CommandResult ReportingPackResult { get; }

    /// <summary>A scratch folder outside the repository that lives as long as the package.</summary>
    public string Scratch(string name)
    {
        string path = _root.Combine(name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        if (Version.Length > 0)
        {
            foreach (string id in new[] { "cifarbatchnorm", "cifarbatchnorm.reporting" })
            {
                string cached = Path.Combine(NuGetConfiguration.GlobalPackagesFolder, id, Version.ToLowerInvariant());
                try
                {
                    if (Directory.Exists(cached))
                    {
                        Directory.Delete(cached, recursive: true);
                    }
                }
                catch (IOException)
                {
                }
            }
        }

        _root.Dispose();
    }

    private CommandResult Pack(string project) => DotnetCli.Run(RepositoryRoot.Path,
    [
        "pack", RepositoryRoot.Combine("src", project, project + ".csproj"), "-c", "Release", "-o", Feed,
        "--version-suffix", VersionSuffix, "--artifacts-path", _root.Combine("artifacts"), "-nodeReuse:false", "-nologo",
    ], TimeSpan.FromMinutes(4));
}
