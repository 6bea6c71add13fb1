using System.Text.Json;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>
/// <c>evaluate</c> reads its model with <c>-w/--weights</c> as predict and export do, <c>--model/-m</c> kept as
/// aliases; an interrupted run is evaluated with its last checkpoint's weights.
/// </summary>
public sealed class EvaluateWeightsTests
{
    [Fact]
    public void Evaluate_takes_weights_and_its_model_aliases_with_the_same_result()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        var (trained, _, trainError) = Run("train", "--dataset", "synthetic", "--epochs", "1", "--batch-size", "32",
            "--train-limit", "64", "--test-limit", "32", "--seed", "5", "--output", run);
        Assert.True(trained == 0, trainError);

        var lines = new List<string>();
        foreach (string spelling in new[] { "--weights", "-w", "--model", "-m" })
        {
            var (code, output, error) = Run("evaluate", spelling, run);
            Assert.True(code == 0, $"{spelling}: {error}");
            lines.Add(output.Split('\n').Single(l => l.StartsWith("Test loss: ", StringComparison.Ordinal)).TrimEnd());
        }

        Assert.Matches(@"^Test loss: \d\.\d{4} - test accuracy: \d\.\d{4} \(32 images\)$", lines[0]);
        Assert.All(lines, l => Assert.Equal(lines[0], l));
    }

    [Fact]
    public void Evaluate_takes_the_whole_test_set_of_a_run_trained_on_part_of_it()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        var (trained, _, trainError) = Run("train", "--dataset", "synthetic", "--epochs", "1", "--batch-size", "32",
            "--train-limit", "64", "--test-limit", "32", "--seed", "5", "--output", run);
        Assert.True(trained == 0, trainError);

        var (code, output, error) = Run("evaluate", "-w", run, "--whole-test-set");
        Assert.True(code == 0, error);
        string line = output.Split('\n').Single(l => l.StartsWith("Test loss: ", StringComparison.Ordinal)).TrimEnd();
        int images = int.Parse(System.Text.RegularExpressions.Regex.Match(line, @"\(([\d,]+) images\)$").Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(images > 32, line);

        var (both, _, bothError) = Run("evaluate", "-w", run, "--whole-test-set", "--test-limit", "16");
        Assert.Equal(ExitCodes.UsageError, both);
        Assert.Contains("--test-limit 16", bothError, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_without_weights_names_the_option()
    {
        var (code, _, error) = Run("evaluate");

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--weights", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interrupted_run_is_evaluated_with_its_last_checkpoints_weights_and_says_so()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        var config = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 3, BatchSize = 32, TrainLimit = 64, TestLimit = 32, Seed = 7 };
        using var source = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() =>
            NotebookExperiment.Run(TestSession.Start(cancellationToken: source.Token), config, run, [new CancelAfter(2, source)]));
        Assert.False(File.Exists(Path.Combine(run, RunFolder.WeightsFile)));

        var (code, output, error) = Run("evaluate", "-w", run);

        Assert.True(code == 0, error);
        string[] lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("model.pt not found (the run was interrupted); evaluating the weights of its last checkpoint, epoch 2.", lines[0]);
        string evaluated = lines.Single(l => l.StartsWith("Test loss: ", StringComparison.Ordinal));

        // The same numbers from the checkpoint's weights.pt given by its path, and put where a finished run keeps its model.pt.
        string checkpointWeights;
        using (var pointer = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunCheckpoint.PointerFile))))
        {
            checkpointWeights = Path.Combine(run, pointer.RootElement.GetProperty("folder").GetString()!, "weights.pt");
        }

        var (byPathCode, byPath, byPathError) = Run("evaluate", "-w", checkpointWeights);
        Assert.True(byPathCode == 0, byPathError);
        Assert.Equal(evaluated, byPath.Split('\n').Single(l => l.StartsWith("Test loss: ", StringComparison.Ordinal)).TrimEnd());

        File.Copy(checkpointWeights, Path.Combine(run, RunFolder.WeightsFile));

        var (finalCode, finalOutput, finalError) = Run("evaluate", "-w", run);
        Assert.True(finalCode == 0, finalError);
        Assert.DoesNotContain("not found", finalOutput, StringComparison.Ordinal);
        Assert.Equal(evaluated, finalOutput.Split('\n').Single(l => l.StartsWith("Test loss: ", StringComparison.Ordinal)).TrimEnd());
    }
}
