namespace CifarBatchNorm.Tests.Support;

/// <summary>The repository checkout the tests were built from.</summary>
internal static class RepositoryRoot
{
    private const string SolutionFile = "CifarBatchNorm.sln";

    /// <summary>The folder holding CifarBatchNorm.sln, found by walking up from the test assembly's folder.</summary>
    public static string Path { get; } = Find();

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, SolutionFile)))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds {SolutionFile}: run the tests from a checkout.");
    }
}
