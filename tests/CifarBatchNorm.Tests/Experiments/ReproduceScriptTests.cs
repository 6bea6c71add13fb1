using System.Text.RegularExpressions;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>The README's result commands are the ones scripts/reproduce-results.sh runs (full length), every folder of docs/results has one, and no run-folder lock is kept.</summary>
public sealed partial class ReproduceScriptTests
{
    /// <summary>The script's commands at full length, with its variables expanded as the README writes them.</summary>
    private static List<string> ScriptCommands()
    {
        string script = File.ReadAllText(RepositoryRoot.Combine("scripts", "reproduce-results.sh")).Replace("\\\n", " ", StringComparison.Ordinal);
        var commands = new List<string>();
        foreach (string line in script.Split('\n').Where(l => l.TrimStart().StartsWith("cifar_bn ", StringComparison.Ordinal)))
        {
            string command = line.Trim()
                .Replace("cifar_bn ", "cifar-bn ", StringComparison.Ordinal)
                .Replace("\"${limit[@]}\"", "", StringComparison.Ordinal)
                .Replace("\"$seeds\"", "5", StringComparison.Ordinal)
                .Replace("\"$few\"", "3", StringComparison.Ordinal)
                .Replace("\"$epochs\"", "10", StringComparison.Ordinal);
            command = Quick().Replace(command, "$1");
            command = Fresh().Replace(command, "docs/results/$1");
            command = Out().Replace(command, "docs/results/$1");
            foreach (string sampling in command.Contains("$sampling", StringComparison.Ordinal) ? ["noniid", "iid"] : new[] { "" })
            {
                commands.Add(Spaces().Replace(command.Replace("\"$sampling\"", sampling, StringComparison.Ordinal).Replace("$sampling", sampling, StringComparison.Ordinal), " "));
            }
        }

        return commands;
    }

    [Fact]
    public void Readme_result_commands_are_the_scripts()
    {
        var script = ScriptCommands();
        string readme = File.ReadAllText(RepositoryRoot.Combine("README.md"));
        var documented = ReadmeCommand().Matches(readme).Select(m => Spaces().Replace(m.Groups[1].Value, " ")).ToList();

        Assert.Equal(9, script.Count);
        Assert.Equal(script.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_results_folder_is_made_by_the_script_and_no_lock_is_committed()
    {
        var made = ScriptCommands().Select(c => Regex.Match(c, "-o docs/results/([^ /]+)").Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var folders = Directory.GetDirectories(RepositoryRoot.Combine("docs", "results")).Select(Path.GetFileName).ToList();

        Assert.All(folders, f => Assert.Contains(f!, made));
        // A run folder's lock is released, not deleted, when its command ends: git ignores it and the script removes it.
        Assert.Contains(".lock", File.ReadAllLines(RepositoryRoot.Combine(".gitignore")));
        Assert.Contains("find \"$out\" -name .lock -delete", File.ReadAllText(RepositoryRoot.Combine("scripts", "reproduce-results.sh")), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\$\(\( quick \? \d+ : (\d+) \)\)")]
    private static partial Regex Quick();

    [GeneratedRegex("\"\\$\\(fresh \"?([^\")]+)\"?\\)\"")]
    private static partial Regex Fresh();

    [GeneratedRegex("\"\\$out/([^\"]+)\"")]
    private static partial Regex Out();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>A result command in the README: a code span that starts <c>cifar-bn</c> and writes into (or reports from) docs/results.</summary>
    [GeneratedRegex(@"`(cifar-bn [^`]*docs/results/[^`]*)`")]
    private static partial Regex ReadmeCommand();
}
