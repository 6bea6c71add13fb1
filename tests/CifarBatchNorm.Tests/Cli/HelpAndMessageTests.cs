using System.Text.Json;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>What a new user reads: help with examples and environment variables, errors in the flag's own words that point to the right help, and banners that say where a dataset came from.</summary>
public sealed class HelpAndMessageTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = App.Run(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Root_help_lists_every_command_examples_and_the_environment_variables()
    {
        var (code, output, _) = Run("--help");

        Assert.Equal(0, code);
        string description = output.Split('\n').First(l => l.Contains("The Batch Normalization", StringComparison.Ordinal));
        foreach (string command in new[] { "train", "summary", "evaluate", "download", "compare", "analyze", "bench", "predict", "export" })
        {
            Assert.Matches($@"(?m)^\s+{command}\s", output);
            Assert.Matches($@"[ :]{command}[ ,.]", description);
        }
        Assert.Contains("Examples:", output, StringComparison.Ordinal);
        Assert.Contains("cifar-bn --epochs 2 --train-limit 2000", output, StringComparison.Ordinal);
        foreach (string variable in new[] { "CIFAR_BATCHNORM_DATA", "CIFAR_BATCHNORM_URL", "CIFAR_BATCHNORM_ALLOCATOR", "CIFAR_BATCHNORM_JEMALLOC", "ONEDNN_MAX_CPU_ISA", "OMP_WAIT_POLICY" })
        {
            Assert.Matches($@"(?m)^  {variable}\s+\S", output);
        }
    }

    [Theory]
    [InlineData("compare")]
    [InlineData("analyze")]
    [InlineData("evaluate")]
    [InlineData("bench")]
    public void Each_command_help_ends_with_its_own_examples(string command)
    {
        var (code, output, _) = Run(command, "--help");

        Assert.Equal(0, code);
        string examples = output[output.IndexOf("Examples:", StringComparison.Ordinal)..];
        Assert.All(examples.Split('\n').Skip(1).Where(l => l.StartsWith("  cifar-bn", StringComparison.Ordinal)),
            l => Assert.StartsWith($"  cifar-bn {command}", l, StringComparison.Ordinal));
        Assert.Contains($"  cifar-bn {command}", examples, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--epochs", "abc" }, "--epochs 'abc' is not a whole number.", "cifar-bn --help")]
    [InlineData(new[] { "train", "--batch-size", "1.5" }, "--batch-size '1.5' is not a whole number.", "cifar-bn train --help")]
    [InlineData(new[] { "compare", "--seeds", "x" }, "--seeds 'x' is not a whole number.", "cifar-bn compare --help")]
    [InlineData(new[] { "analyze", "--probe-every", "9999999999" }, "--probe-every '9999999999' is too large", "cifar-bn analyze --help")]
    [InlineData(new[] { "train", "--lr", "fast" }, "--learning-rate 'fast' is not a number", "cifar-bn train --help")]
    [InlineData(new[] { "bench", "--no-such-flag" }, "--no-such-flag", "cifar-bn bench --help")]
    public void Bad_values_are_named_in_the_flags_words_and_point_to_that_commands_help(string[] args, string message, string help)
    {
        var (code, _, error) = Run(args);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
        Assert.EndsWith($"Run '{help}' for the options.", error.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_names_the_path_it_was_given()
    {
        var (code, _, error) = Run("evaluate", "--model", "/nonexistent");

        Assert.Equal(1, code);
        Assert.Equal("error: /nonexistent not found: give a run folder, a weights file inside one, or a .keras archive.", error.Trim());
    }

    [Fact]
    public void Evaluate_of_a_folder_without_a_run_says_it_is_not_a_run_folder()
    {
        using var temp = new TempDirectory();

        var (code, _, error) = Run("evaluate", "--model", temp.Path);

        Assert.Equal(1, code);
        Assert.Contains($"{temp.Path} is not a run folder (it has no config.json)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_auto_run_is_named_after_the_dataset_used_and_evaluating_it_says_the_dataset_came_from_its_config()
    {
        using var temp = new TempDirectory();
        string empty = temp.Combine("no-data");
        Directory.CreateDirectory(empty);
        var config = new TrainConfig
        {
            Dataset = DatasetKind.Auto, DataDir = empty, Download = false, Epochs = 1, BatchSize = 32, TrainLimit = 64, TestLimit = 32,
        };
        DatasetKind? chosenFor = null;
        using var output = new StringWriter();

        var run = NotebookExperiment.Run(TestSession.Start(output), config, kind => { chosenFor = kind; return temp.Combine(TrainingOptions.DefaultFolder(DatasetSelector.Name(kind)).Split('/')[^1]); });

        Assert.Equal(DatasetKind.Synthetic, chosenFor);   // decided after the data was loaded, not "auto"
        Assert.StartsWith("synthetic-", Path.GetFileName(run.Folder), StringComparison.Ordinal);
        string banner = output.ToString().Split('\n').First(l => l.StartsWith("Using ", StringComparison.Ordinal));
        Assert.Equal("Using the synthetic CIFAR-10-shaped set, seed 42 (CIFAR-10 not available; the reason is recorded in the output folder).", banner.TrimEnd());
        using (var recorded = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Folder, "config.json"))))
        {
            Assert.Contains($"CIFAR-10 not found in {empty}", recorded.RootElement.GetProperty("dataset_reason").GetString(), StringComparison.Ordinal);
        }

        var (code, evaluated, error) = Run("evaluate", "--model", run.Folder, "--data-dir", empty);
        Assert.True(code == 0, error);
        Assert.Contains("(the run's dataset, from its config.json)", evaluated, StringComparison.Ordinal);
        Assert.DoesNotContain("requested", evaluated, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_run_folder_is_runs_dataset_time()
    {
        string folder = TrainingOptions.DefaultFolder("fashion-mnist");

        Assert.Matches(@"[/\\]runs[/\\]fashion-mnist-\d{8}-\d{6}$", folder);
    }

    [Fact]
    public void Run_folder_json_writes_plus_and_non_ascii_as_they_are()
    {
        string json = JsonSerializer.Serialize(new { machine = "Linux x64 + jemalloc, Zürich" }, RunFolder.Json);

        Assert.Contains("Linux x64 + jemalloc, Zürich", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", json, StringComparison.Ordinal);
    }
}
