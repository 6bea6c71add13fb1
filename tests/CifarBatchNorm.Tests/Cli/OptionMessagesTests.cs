using CifarBatchNorm.Cli;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>Errors in the command line's terms: flags, not library properties; exit code 2 for a bad option value.</summary>
public sealed class OptionMessagesTests
{
    [Fact]
    public void An_empty_output_is_a_usage_error_naming_the_flag()
    {
        var (code, _, error) = Run("train", "--dataset", "synthetic", "-o", "");

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.StartsWith("error: --output is empty; give a folder path for the new run.", error, StringComparison.Ordinal);
        Assert.Contains("Run 'cifar-bn train --help' for the options.", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--data-dir", "error: --data-dir {0} is a file; give the folder holding the dataset files.")]
    [InlineData("--tensorboard", "error: --tensorboard {0} is a file; give a folder for the event files.")]
    [InlineData("--output", "error: --output {0} is a file; give a folder path for the new run.")]
    public void A_file_where_a_folder_belongs_names_the_option(string option, string expected)
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("a-file");
        File.WriteAllText(file, "x");

        var (code, _, error) = Run("train", "--dataset", "synthetic", option, file);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, file), error.Split('\n')[0]);
    }

    [Fact]
    public void A_library_range_error_is_reported_with_the_flag()
    {
        var error = Assert.Throws<ArgumentException>(() => (TrainConfig.Notebook with { Epochs = 0 }).Validate());
        Assert.Equal("TrainConfig.Epochs", error.ParamName);

        Assert.Equal("--epochs 0 is out of range: expected 1 to 100000.", CliMessages.ForUser(error));
        Assert.True(CliMessages.IsOptionError(error));
    }

    [Theory]
    [InlineData("/tmp/runs/plain-1", "/tmp/runs/plain-1")]
    [InlineData("/tmp/my runs/a", "'/tmp/my runs/a'")]
    [InlineData("/tmp/it's", "'/tmp/it'\\''s'")]
    public void The_resume_hint_quotes_paths_for_the_shell(string path, string quoted)
    {
        Assert.Equal(quoted, CliOptions.ShellQuote(path));
    }
}
