using System.Text.RegularExpressions;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>The dependency rules of docs/architecture.md, checked on the source.</summary>
public sealed partial class ArchitectureRulesTests
{
    private static IEnumerable<(string File, string Text)> Sources(params string[] folder) =>
        Directory.EnumerateFiles(RepositoryRoot.Combine(["src", .. folder]), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(RepositoryRoot.Path, f), File.ReadAllText(f)));

    [GeneratedRegex("\"[^\"\\n]*(--[a-z][a-z-]+|cifar-bn [a-z])[^\"\\n]*\"")]
    private static partial Regex CommandLineLiteral();

    [Fact]
    public void The_library_names_no_command_line_flag_or_command()
    {
        var offenders = Sources("CifarBatchNorm").Concat(Sources("CifarBatchNorm.Reporting"))
            .SelectMany(s => CommandLineLiteral().Matches(s.Text).Select(m => $"{s.File}: {m.Value}"))
            .ToList();

        Assert.True(offenders.Count == 0, "library strings in CLI terms:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void Layers_read_no_process_state()
    {
        string[] forbidden = ["TorchRuntime", "Environment.", "Console.", "RuntimeSettings", "static volatile", "DeviceSelector"];
        var offenders = Sources("CifarBatchNorm", "Layers")
            .SelectMany(s => forbidden.Where(f => s.Text.Contains(f, StringComparison.Ordinal)).Select(f => $"{s.File}: {f}"))
            .ToList();

        Assert.True(offenders.Count == 0, "layers consulting process state:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void Only_entry_points_initialise_the_runtime()
    {
        var callers = Sources("CifarBatchNorm")
            .Where(s => !s.File.EndsWith("TorchRuntime.cs", StringComparison.Ordinal) && s.Text.Contains("TorchRuntime.Initialize(", StringComparison.Ordinal))
            .Select(s => s.File)
            .ToList();

        Assert.True(callers.Count == 0, "library code calling TorchRuntime.Initialize:\n" + string.Join("\n", callers));
    }

    [Fact]
    public void Experiments_do_not_write_reports_and_formats_know_no_model()
    {
        var offenders = Sources("CifarBatchNorm", "Experiments")
            .Where(s => s.Text.Contains("Charts.", StringComparison.Ordinal) || s.Text.Contains("using CifarBatchNorm.Reporting", StringComparison.Ordinal))
            .Select(s => s.File)
            .Concat(Sources("CifarBatchNorm", "Data")
                .Where(s => s.Text.Contains("using CifarBatchNorm.Training", StringComparison.Ordinal) || s.Text.Contains("Sequential", StringComparison.Ordinal))
                .Select(s => s.File))
            .ToList();

        Assert.True(offenders.Count == 0, "dependency rule broken in:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_library_assembly_does_not_reference_the_plotting_library()
    {
        var references = typeof(CifarBatchNorm.Training.Sequential).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        var reporting = typeof(CifarBatchNorm.Reporting.CompareReport).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.DoesNotContain(references, n => n!.StartsWith("ScottPlot", StringComparison.Ordinal) || n.StartsWith("CifarBatchNorm.Reporting", StringComparison.Ordinal));
        Assert.Contains("ScottPlot", reporting);
        Assert.Contains("CifarBatchNorm", reporting);
    }
}
