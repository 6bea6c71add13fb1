using System.Text.RegularExpressions;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>
/// The dependency rules of docs/architecture.md: the may-use table checked on the compiled library (what each part's
/// types reference, <see cref="PartDependencies"/>), the other rules on the source.
/// </summary>
public sealed partial class ArchitectureRulesTests
{
    private static readonly string[] Parts = ["Layers", "Training", "Callbacks", "Data", "Experiments", "Interop", "Runtime", "IO"];

    /// <summary>The "may use" column of the parts table in docs/architecture.md, per part (the library's parts only).</summary>
    private static Dictionary<string, HashSet<string>> MayUse()
    {
        var table = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(RepositoryRoot.Combine("docs", "architecture.md")))
        {
            string[] cells = line.Split('|');
            if (cells.Length >= 4 && cells[1].Trim() is { } first && first.StartsWith('`') && first.EndsWith("/`", StringComparison.Ordinal))
            {
                string part = first.Trim('`').TrimEnd('/');
                table[part] = cells[^2].Split([',', ' ', '(', ')'], StringSplitOptions.RemoveEmptyEntries).Where(Parts.Contains).ToHashSet(StringComparer.Ordinal);
            }
        }

        Assert.Equal(Parts.Order(StringComparer.Ordinal), table.Keys.Order(StringComparer.Ordinal));
        return table;
    }

    private static Dictionary<(string From, string To), string> Actual() => PartDependencies.Of(typeof(CifarBatchNorm.Training.Sequential).Assembly);

    [Fact]
    public void Every_part_uses_only_what_the_architecture_table_allows()
    {
        var table = MayUse();
        var offenders = Actual().Where(d => !table[d.Key.From].Contains(d.Key.To))
            .Select(d => $"{d.Key.From} -> {d.Key.To}: {d.Value}").Order(StringComparer.Ordinal).ToList();

        Assert.True(offenders.Count == 0, "dependencies docs/architecture.md does not allow:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_architecture_table_lists_only_dependencies_the_code_has()
    {
        var actual = Actual();
        var unused = MayUse().SelectMany(kv => kv.Value.Select(to => (From: kv.Key, To: to))).Where(d => !actual.ContainsKey(d))
            .Select(d => $"{d.From} -> {d.To}").ToList();

        Assert.True(unused.Count == 0, "docs/architecture.md allows dependencies the code no longer has (remove them from the table):\n" + string.Join("\n", unused));
    }

    [Fact]
    public void Reporting_uses_only_the_parts_its_row_names()
    {
        string row = File.ReadLines(RepositoryRoot.Combine("docs", "architecture.md")).Single(l => l.StartsWith("| `CifarBatchNorm.Reporting`", StringComparison.Ordinal));
        var allowed = row.Split('|')[^2].Split([',', ' ', '(', ')'], StringSplitOptions.RemoveEmptyEntries).Where(Parts.Contains).ToHashSet(StringComparer.Ordinal);
        var used = PartDependencies.Of(typeof(CifarBatchNorm.Reporting.CompareReport).Assembly).Where(d => d.Key.From == "Reporting").ToList();

        var offenders = used.Where(d => !allowed.Contains(d.Key.To)).Select(d => $"Reporting -> {d.Key.To}: {d.Value}").ToList();

        Assert.True(offenders.Count == 0, "Reporting uses parts its row in docs/architecture.md does not name:\n" + string.Join("\n", offenders));
        Assert.Equal(allowed.Order(StringComparer.Ordinal), used.Select(d => d.Key.To).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_parts_have_no_cycle_but_callbacks_and_training()
    {
        var edges = Actual().Keys.ToList();
        var cycles = StronglyConnected(edges).Where(c => c.Count > 1).Select(c => string.Join(" <-> ", c.Order(StringComparer.Ordinal))).ToList();
        var declared = StronglyConnected(MayUse().SelectMany(kv => kv.Value.Select(to => (kv.Key, to))).ToList())
            .Where(c => c.Count > 1).Select(c => string.Join(" <-> ", c.Order(StringComparer.Ordinal))).ToList();

        Assert.Equal(["Callbacks <-> Training"], cycles);
        Assert.Equal(["Callbacks <-> Training"], declared);
    }

    /// <summary>The strongly connected components of a directed graph (Tarjan).</summary>
    private static List<List<string>> StronglyConnected(IReadOnlyList<(string From, string To)> edges)
    {
        var next = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).ToList(), StringComparer.Ordinal);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var components = new List<List<string>>();
        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            foreach (string to in next.GetValueOrDefault(node) ?? [])
            {
                if (!index.ContainsKey(to))
                {
                    Visit(to);
                    low[node] = Math.Min(low[node], low[to]);
                }
                else if (stack.Contains(to))
                {
                    low[node] = Math.Min(low[node], index[to]);
                }
            }

            if (low[node] == index[node])
            {
                var component = new List<string>();
                string popped;
                do
                {
                    popped = stack.Pop();
                    component.Add(popped);
                }
                while (popped != node);
                components.Add(component);
            }
        }

        foreach (string node in Parts)
        {
            if (!index.ContainsKey(node))
            {
                Visit(node);
            }
        }

        return components;
    }

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
    public void Only_the_session_factory_initialises_the_runtime()
    {
        var callers = Sources("CifarBatchNorm").Concat(Sources("CifarBatchNorm.Cli")).Concat(Sources("CifarBatchNorm.Reporting"))
            .Where(s => !s.File.EndsWith("TorchRuntime.cs", StringComparison.Ordinal) && !s.File.EndsWith("RunSession.cs", StringComparison.Ordinal)
                && (s.Text.Contains("TorchRuntime.Initialize(", StringComparison.Ordinal)
                    // Training's one check that the entry point did its job (Fit without a runtime is an error, not a silent default).
                    || (s.Text.Contains("TorchRuntime.Require(", StringComparison.Ordinal) && !s.File.EndsWith("Sequential.cs", StringComparison.Ordinal))))
            .Select(s => s.File)
            .ToList();

        Assert.True(callers.Count == 0, "code reaching the runtime singleton instead of its RunSession:\n" + string.Join("\n", callers));
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
