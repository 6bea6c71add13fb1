namespace CifarBatchNorm.Data.Download;

/// <summary>
/// Picks the folder that holds downloaded datasets. The first that applies wins:
/// the explicit folder (the CLI's <c>--data-dir</c>), the <c>CIFAR_BATCHNORM_DATA</c> environment variable,
/// then <c>$XDG_CACHE_HOME/cifar-batchnorm</c>, then <c>~/.cache/cifar-batchnorm</c>.
/// </summary>
internal static class DataCache
{
    /// <summary>Environment variable naming the data folder.</summary>
    public const string DataDirectoryVariable = "CIFAR_BATCHNORM_DATA";

    /// <summary>Environment variable of the XDG base-directory specification for per-user caches.</summary>
    public const string XdgCacheHomeVariable = "XDG_CACHE_HOME";

    /// <summary>Name of this library's folder inside the user's cache folder.</summary>
    public const string FolderName = "cifar-batchnorm";

    /// <summary>Returns the full path of the data folder (not created).</summary>
    /// <param name="explicitDirectory">A folder given by the user, or <c>null</c> (or empty) to fall back to the environment.</param>
    public static string Resolve(string? explicitDirectory = null) =>
        Resolve(explicitDirectory, Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    internal static string Resolve(string? explicitDirectory, Func<string, string?> getVariable, string homeDirectory)
    {
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return Path.GetFullPath(explicitDirectory);
        }

        string? fromEnvironment = getVariable(DataDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        // The XDG specification says a relative XDG_CACHE_HOME is invalid and must be ignored.
        string? xdgCache = getVariable(XdgCacheHomeVariable);
        string cacheRoot = !string.IsNullOrWhiteSpace(xdgCache) && Path.IsPathFullyQualified(xdgCache)
            ? xdgCache
            : Path.Combine(homeDirectory, ".cache");
        return Path.GetFullPath(Path.Combine(cacheRoot, FolderName));
    }
}
