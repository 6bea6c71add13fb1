using System.Text.RegularExpressions;

namespace CifarBatchNorm.Tests.Support;

/// <summary>This machine's NuGet settings, as the dotnet CLI reports them (nothing hard-coded).</summary>
internal static partial class NuGetConfiguration
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>The global packages folder (NUGET_PACKAGES, else the user's ~/.nuget/packages or its configured replacement).</summary>
    public static string GlobalPackagesFolder { get; } = FindGlobalPackagesFolder();

    /// <summary>
    /// The URL of the machine's package registry: the enabled source named nuget.org in the user-level
    /// configuration, else the first enabled source.
    /// </summary>
    public static string RegistrySource()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var result = DotnetCli.Run(home, ["nuget", "list", "source"], Timeout);
        Assert.True(result.ExitCode == 0, result.Transcript);
        var sources = SourceEntry().Matches(result.Output)
            .Select(m => (Name: m.Groups["name"].Value, Enabled: m.Groups["state"].Value == "Enabled", Url: m.Groups["url"].Value.Trim()))
            .Where(s => s.Enabled)
            .ToList();
        Assert.True(sources.Count > 0, "No enabled NuGet source on this machine:\n" + result.Transcript);
        return sources.FirstOrDefault(s => s.Name.Equals("nuget.org", StringComparison.OrdinalIgnoreCase)).Url ?? sources[0].Url;
    }

    private static string FindGlobalPackagesFolder()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var result = DotnetCli.Run(home, ["nuget", "locals", "global-packages", "--list"], Timeout);
        var match = Regex.Match(result.Output, @"global-packages:\s*(?<path>\S.*)$", RegexOptions.Multiline);
        return match.Success
            ? match.Groups["path"].Value.Trim()
            : Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(home, ".nuget", "packages");
    }

    // "  1.  nuget.org [Enabled]" followed by the URL on the next line.
    [GeneratedRegex(@"^\s*\d+\.\s+(?<name>.+?)\s+\[(?<state>Enabled|Disabled)\]\s*\r?\n\s*(?<url>\S+)", RegexOptions.Multiline)]
    private static partial Regex SourceEntry();
}
