using CifarBatchNorm.Reporting;
using CifarBatchNorm.Training;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>
/// Snapshot of the public API of both library assemblies (CifarBatchNorm and CifarBatchNorm.Reporting), in one
/// file: every line names its type with its namespace, and the namespaces of the two do not overlap. A change to it fails here until the approved file is regenerated
/// (set UPDATE_PUBLIC_API=1 and run this test), so every API change shows up in review as a diff of that file.
/// </summary>
public sealed class PublicApiTests
{
    private const string UpdateVariable = "UPDATE_PUBLIC_API";
    private const string ApprovedFile = "PublicApi.approved.txt";
    private const string UpdateCommand =
        "UPDATE_PUBLIC_API=1 dotnet test -c Release --filter FullyQualifiedName~PublicApiTests";

    private static string SourceApprovedPath => RepositoryRoot.Combine("tests", "CifarBatchNorm.Tests", "Packaging", ApprovedFile);

    private static string OutputApprovedPath => Path.Combine(AppContext.BaseDirectory, "Packaging", ApprovedFile);

    [Fact]
    public void Public_api_matches_the_approved_file()
    {
        var actual = Describe();
        string text = string.Join('\n', actual) + "\n";
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(SourceApprovedPath, text);
            File.WriteAllText(OutputApprovedPath, text);
            return;
        }

        var approved = File.Exists(OutputApprovedPath) ? ReadLines(OutputApprovedPath) : [];
        var added = actual.Except(approved, StringComparer.Ordinal).ToList();
        var removed = approved.Except(actual, StringComparer.Ordinal).ToList();
        if (added.Count == 0 && removed.Count == 0)
        {
            return;
        }

        string received = Path.Combine(AppContext.BaseDirectory, "Packaging", "PublicApi.received.txt");
        File.WriteAllText(received, text);
        Assert.Fail(
            $"The public API of CifarBatchNorm and CifarBatchNorm.Reporting differs from {ApprovedFile}: {added.Count} added, {removed.Count} removed.\n"
            + string.Concat(added.Select(l => $"+ {l}\n")) + string.Concat(removed.Select(l => $"- {l}\n"))
            + $"If the change is intended, regenerate the approved file and commit it with the change:\n  {UpdateCommand}\n"
            + $"(it rewrites {SourceApprovedPath}; the full current API is in {received}).");
    }

    [Fact]
    public void Approved_file_is_sorted_without_duplicates_so_merges_stay_clean()
    {
        var approved = ReadLines(SourceApprovedPath);

        Assert.Equal(approved.Order(StringComparer.Ordinal), approved);
        Assert.Equal(approved.Distinct(StringComparer.Ordinal).Count(), approved.Count);
        Assert.DoesNotContain(approved, l => l.Length == 0);
    }

    [Fact]
    public void Description_names_kind_parameters_defaults_nullability_and_return_type()
    {
        var lines = PublicApi.Describe(typeof(Sequential).Assembly);

        Assert.Contains("CifarBatchNorm.Training.Sequential: sealed class : torch.nn.Module<torch.Tensor, torch.Tensor>", lines);
        Assert.Contains("CifarBatchNorm.Runtime.DeviceSelector: static class", lines);
        Assert.Contains("CifarBatchNorm.Runtime.DeviceSelector: static method Resolve(string name) -> torch.Device", lines);
        Assert.Contains("CifarBatchNorm.Runtime.DeviceSelector: const string Auto = \"auto\"", lines);
        Assert.Contains("CifarBatchNorm.Experiments.TrainConfig: property string Device { get; init; }", lines);
        Assert.Contains("CifarBatchNorm.Experiments.TrainConfig: property int? Threads { get; init; }", lines);
        Assert.Contains("CifarBatchNorm.Experiments.TrainConfig: property string? DataDir { get; init; }", lines);
        Assert.Contains("CifarBatchNorm.Callbacks.ModelCheckpoint: ctor(string filePath, string monitor = \"val_loss\", bool saveBestOnly = false, MonitorMode mode = MonitorMode.Auto, Action<Sequential, string>? save = null)", lines);
        Assert.Contains(lines, l => l.StartsWith(
            "CifarBatchNorm.Training.Sequential: method Fit(ImageDataset x, int batchSize = 32, int epochs = 1, int verbose = 1, ImageDataset? validationData = null,",
            StringComparison.Ordinal) && l.EndsWith(", CancellationToken cancellationToken = default, BatchSampling sampling = BatchSampling.Iid, double validationSplit = 0) -> History", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("get_", StringComparison.Ordinal) || l.Contains('<' + "Clone>", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("BatchBuffer", StringComparison.Ordinal));   // internal type
    }

    [Fact]
    public void Reports_are_the_public_api_of_the_reporting_assembly_and_of_no_other()
    {
        var core = PublicApi.Describe(typeof(Sequential).Assembly);
        var reporting = PublicApi.Describe(typeof(CompareReport).Assembly);

        Assert.Contains("CifarBatchNorm.Reporting.CompareReport: static class", reporting);
        Assert.Contains("CifarBatchNorm.Reporting.AnalysisReport: static class", reporting);
        Assert.All(reporting, l => Assert.StartsWith("CifarBatchNorm.Reporting.", l, StringComparison.Ordinal));
        Assert.DoesNotContain(core, l => l.StartsWith("CifarBatchNorm.Reporting.", StringComparison.Ordinal));
    }

    /// <summary>Both assemblies' public surface, sorted as one list.</summary>
    private static List<string> Describe() =>
        PublicApi.Describe(typeof(Sequential).Assembly).Concat(PublicApi.Describe(typeof(CompareReport).Assembly))
            .Order(StringComparer.Ordinal).ToList();

    private static List<string> ReadLines(string path) =>
        File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
}
