using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Notebook;

/// <summary>
/// notebooks/batch-normalization.ipynb run headless by scripts/run-notebook.sh on its quick setting: the executed copy
/// holds the Keras summary, the epoch lines, the evaluation and inline plots, and no cell failed. Needs the dotnet-repl
/// tool in artifacts/tools (.ci/run installs it); without it the test is skipped with the install command.
/// </summary>
public sealed partial class NotebookTests
{
    private const string InstallCommand = "dotnet tool install dotnet-repl --version 0.3.259 --tool-path artifacts/tools";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    [GeneratedRegex(@"\d+/\d+ ━{20} \d+s \d+m?s/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}")]
    private static partial Regex EpochLine();

    [GeneratedRegex(@"Test loss: \d\.\d{4} - test accuracy: \d\.\d{4} \(256 images\)")]
    private static partial Regex EvaluationLine();

    [SkippableFact]
    public void The_notebook_runs_headless_with_summary_epochs_evaluation_and_plots_and_no_error()
    {
        RequireTool();
        using var temp = new TempDirectory();
        string executed = temp.Combine("executed.ipynb");
        // The test's own build made the Release output the notebook references; a Debug test run lets the script build it.
        bool release = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

        var result = RunScript([.. release ? new[] { "--no-build" } : [], "--quick", "notebooks/batch-normalization.ipynb", executed]);

        Assert.True(File.Exists(executed), result);
        using var notebook = JsonDocument.Parse(File.ReadAllText(executed));
        var cells = notebook.RootElement.GetProperty("cells").EnumerateArray().ToList();
        var outputs = cells.Where(c => c.GetProperty("cell_type").GetString() == "code")
            .SelectMany(c => c.TryGetProperty("outputs", out var o) ? o.EnumerateArray() : Enumerable.Empty<JsonElement>()).ToList();
        var errors = outputs.Where(o => o.GetProperty("output_type").GetString() == "error")
            .Select(o => o.GetProperty("evalue").GetString()).ToList();
        Assert.True(errors.Count == 0, "cells failed:\n" + string.Join("\n", errors) + "\n" + result);
        Assert.True(result.StartsWith("exit 0", StringComparison.Ordinal), result);

        string streams = string.Concat(outputs.Where(o => o.GetProperty("output_type").GetString() == "stream").Select(o => Text(o.GetProperty("text"))));
        Assert.Contains("Using the synthetic CIFAR-10-shaped set, seed 42 (requested).", streams, StringComparison.Ordinal);
        Assert.Contains("Total params: 270,482 (1.03 MB)", streams, StringComparison.Ordinal);   // the notebook's model on 32x32x3
        Assert.Contains("Non-trainable params: 608", streams, StringComparison.Ordinal);
        Assert.Contains("Epoch 1/1", streams, StringComparison.Ordinal);
        Assert.Matches(EpochLine(), streams);
        Assert.Matches(EvaluationLine(), streams);
        var svgs = outputs.Where(o => o.GetProperty("output_type").GetString() == "display_data")
            .Select(o => Text(o.GetProperty("data").GetProperty("text/html"))).Where(h => h.Contains("<svg", StringComparison.Ordinal)).ToList();
        Assert.True(svgs.Count >= 2, $"{svgs.Count} inline plots");
        Assert.Contains(svgs, s => s.Contains("Loss, ", StringComparison.Ordinal));

        // The original's notes come first, verbatim, with the English rendering beside them.
        string first = Text(cells[0].GetProperty("source"));
        Assert.StartsWith("# Batch Normalization(배치 정규화)", first, StringComparison.Ordinal);
        Assert.Contains("일반적으로 합성곱, 전결합층 다음에 사용", first, StringComparison.Ordinal);
        Assert.Contains("English rendering", Text(cells[1].GetProperty("source")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_script_refuses_a_wrong_call_with_its_usage()
    {
        string output = RunScript(["only-one.ipynb"]);

        Assert.StartsWith("exit 2", output, StringComparison.Ordinal);
        Assert.Contains("usage: scripts/run-notebook.sh [--quick] [--no-build] IN.ipynb OUT.ipynb", output, StringComparison.Ordinal);
    }

    private static string Text(JsonElement element) =>
        element.ValueKind == JsonValueKind.Array ? string.Concat(element.EnumerateArray().Select(e => e.GetString())) : element.GetString() ?? "";

    private static void RequireTool()
    {
        if (File.Exists(RepositoryRoot.Combine("artifacts", "tools", "dotnet-repl")))
        {
            return;
        }

        string reason = $"the dotnet-repl tool is not in artifacts/tools; install it at the repository root with: {InstallCommand}";
        Assert.False(Environment.GetEnvironmentVariable(RequiredData.RequireVariable) == "1", $"{reason} ({RequiredData.RequireVariable}=1 makes this a failure)");
        Skip.If(true, reason);
    }

    /// <summary>Runs the script from the repository root; returns "exit N" and what it printed.</summary>
    private static string RunScript(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("scripts/run-notebook.sh");
        arguments.ToList().ForEach(start.ArgumentList.Add);
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["CIFAR_BATCHNORM_NOTEBOOK_DATASET"] = "synthetic";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"scripts/run-notebook.sh did not finish within {Timeout.TotalMinutes:0} minutes.");
        }

        Task.WaitAll([output, error], TimeSpan.FromSeconds(30));
        return $"exit {process.ExitCode}\n--- stdout ---\n{(output.IsCompleted ? output.Result : "")}\n--- stderr ---\n{(error.IsCompleted ? error.Result : "")}";
    }
}
