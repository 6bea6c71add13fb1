using CifarBatchNorm.Cli;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary><c>evaluate</c> reads its model with <c>-w/--weights</c> as predict and export do, <c>--model/-m</c> kept as aliases.</summary>
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
    public void Evaluate_without_weights_names_the_option()
    {
        var (code, _, error) = Run("evaluate");

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--weights", error, StringComparison.Ordinal);
    }
}
