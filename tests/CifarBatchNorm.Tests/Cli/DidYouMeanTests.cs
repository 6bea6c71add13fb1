using CifarBatchNorm.Cli;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>A mistyped command or option gets one line naming the closest valid one, and exit code 2.</summary>
public sealed class DidYouMeanTests
{
    [Theory]
    [InlineData(new[] { "--epoch", "2" }, "error: unknown option '--epoch'; did you mean --epochs?", "cifar-bn --help")]
    [InlineData(new[] { "trian" }, "error: unknown command 'trian'; did you mean train?", "cifar-bn --help")]
    [InlineData(new[] { "train", "--batchsize", "8" }, "error: unknown option '--batchsize'; did you mean --batch-size?", "cifar-bn train --help")]
    [InlineData(new[] { "evalute", "-m", "x" }, "error: unknown command 'evalute'; did you mean evaluate?", "cifar-bn --help")]
    [InlineData(new[] { "compare", "mrege", "a" }, "error: unknown command 'mrege'; did you mean merge?", "cifar-bn compare --help")]
    [InlineData(new[] { "compare", "--seed", "1", "--seeeds", "2" }, "error: unknown option '--seeeds'; did you mean --seeds?", "cifar-bn compare --help")]
    public void A_typo_gets_one_line_naming_the_closest_valid_name(string[] args, string expected, string help)
    {
        var (code, output, error) = Run(args);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal("", output);
        string[] lines = error.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal([expected, $"Run '{help}' for the options."], lines);
    }

    [Fact]
    public void A_token_close_to_nothing_keeps_the_parsers_message()
    {
        var (code, _, error) = Run("bench", "--no-such-flag");

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.DoesNotContain("did you mean", error, StringComparison.Ordinal);
        Assert.Contains("'--no-such-flag'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("train", "trian", 1)]
    [InlineData("--epochs", "--epoch", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("abc", "abc", 0)]
    public void The_distance_counts_edits_and_adjacent_swaps(string a, string b, int expected)
    {
        Assert.Equal(expected, CliSuggestions.Distance(a, b));
    }

    [Fact]
    public void Short_tokens_and_far_tokens_get_no_suggestion()
    {
        Assert.Null(CliSuggestions.Closest("-x", ["-o", "-w"]));
        Assert.Null(CliSuggestions.Closest("--colour", ["--epochs", "--seed"]));
        Assert.Equal("--seed", CliSuggestions.Closest("--sede", ["--seeds", "--seed"]));
    }

    [Theory]
    [InlineData("--augment", "flip")]
    [InlineData("--early-stopping-patience", "3")]
    [InlineData("--reduce-lr-patience", "2")]
    [InlineData("--checkpoint-best", null)]
    [InlineData("--tensorboard", "tb")]
    public void A_train_option_given_to_compare_says_it_belongs_to_train(string option, string? value)
    {
        string[] args = value is null ? ["compare", option] : ["compare", option, value];

        var (code, _, error) = Run(args);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal($"error: {option} is an option of train, not compare.", error.Split('\n')[0].TrimEnd());
        Assert.Equal(2, error.TrimEnd().Split('\n').Length);
    }
}
