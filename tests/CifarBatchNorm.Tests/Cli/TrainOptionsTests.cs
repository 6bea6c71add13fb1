using System.Text.Json;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>The train command's --validation-split and --augment, the quick-run note and evaluate's per-class table.</summary>
public sealed class TrainOptionsTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = App.Run(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("--validation-split", "1", "--validation-split 1 is out of range: expected [0, 1) (0 validates on the test set).")]
    [InlineData("--validation-split", "-0.1", "--validation-split -0.1 is out of range")]
    [InlineData("--augment", "flip,blur", "--augment has an unknown augmentation 'blur': use flip, translate and crop, comma-separated.")]
    public void Validation_split_and_augment_are_checked_when_parsed(string option, string value, string message)
    {
        var (code, _, error) = Run("train", "--dataset", "synthetic", option, value);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_split_that_leaves_no_training_image_names_the_flag_and_leaves_no_folder()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var (code, _, error) = Run("train", "--dataset", "synthetic", "--train-limit", "10", "--test-limit", "10", "--validation-split", "0.95", "--output", run);

        Assert.Equal(2, code);
        Assert.StartsWith("error: --validation-split 0.95 leaves no image for training or for validation among the 10 training images", error, StringComparison.Ordinal);
        Assert.DoesNotContain("TrainConfig", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void A_quick_run_prints_a_note_in_flags_and_evaluate_prints_the_per_class_table()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var (code, output, error) = Run("train", "--dataset", "synthetic", "--epochs", "2", "--train-limit", "2000", "--test-limit", "500", "--output", run);

        Assert.True(code == 0, error);
        Assert.Contains("Validation: the test set (500 images); the final evaluation uses the test set.", output, StringComparison.Ordinal);
        string note = output.Split('\n').Single(l => l.StartsWith("Note: ", StringComparison.Ordinal));
        Assert.Contains("after 16 steps", note, StringComparison.Ordinal);
        Assert.Contains("lower --bn-momentum to 0.9", note, StringComparison.Ordinal);
        Assert.DoesNotContain("TrainConfig", note, StringComparison.Ordinal);

        var (evalCode, evalOutput, evalError) = Run("evaluate", "--model", run);

        Assert.True(evalCode == 0, evalError);
        Assert.Contains("class     images   accuracy   precision", evalOutput, StringComparison.Ordinal);
        Assert.Equal(10, evalOutput.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^class_\d\s+\d+\s+\d\.\d{4}\s+\d\.\d{4}$")));
        Assert.Matches(@"\nall\s+500\s+\d\.\d{4}\n", evalOutput);
    }

    [Fact]
    public void Validation_split_and_augmentation_reach_the_run_and_its_summary()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var (code, output, error) = Run("train", "--dataset", "synthetic", "--epochs", "1", "--batch-size", "64", "--train-limit", "320", "--test-limit", "64",
            "--validation-split", "0.2", "--augment", "flip,translate,crop", "--output", run);

        Assert.True(code == 0, error);
        Assert.Contains("Validation: last 20% of the training set (64 images; training on the first 256); the final evaluation uses the test set.", output, StringComparison.Ordinal);
        Assert.Contains("4/4 ━", output, StringComparison.Ordinal);
        Assert.Matches(@"random_flip \(RandomFlip\)\s+│ \(None, 32, 32, 3\)\s+│\s+0 │", output);
        Assert.Matches(@"random_translation\s+│ \(None, 32, 32, 3\)\s+│\s+0 │", output);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal(0.2, config.RootElement.GetProperty("config").GetProperty("validation_split").GetDouble());
        Assert.Equal(64, config.RootElement.GetProperty("validation_samples").GetInt32());
    }

    [Fact]
    public void Optimizer_schedule_and_weight_decay_from_the_command_line_are_used_said_and_recorded()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var (code, output, error) = Run("train", "--dataset", "synthetic", "--train-limit", "256", "--test-limit", "64", "--epochs", "2",
            "--batch-size", "64", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--nesterov", "--lr-schedule", "cosine",
            "--weight-decay", "1e-4", "--output", run);

        Assert.True(code == 0, error);
        Assert.Contains("Optimizer: sgd, learning rate 0.05 with cosine decay to 0, Nesterov momentum 0.9, weight decay 0.0001.", output, StringComparison.Ordinal);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        var c = config.RootElement.GetProperty("config");
        Assert.Equal("sgd", c.GetProperty("optimizer").GetString());
        Assert.Equal("cosine", c.GetProperty("learning_rate_schedule").GetString());
        Assert.Equal((1e-4, 0.9, true), (c.GetProperty("weight_decay").GetDouble(), c.GetProperty("momentum").GetDouble(), c.GetProperty("nesterov").GetBoolean()));
        using var history = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "history.json")));
        var rates = history.RootElement.GetProperty("learning_rate").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.True(rates[1] < rates[0] && rates[0] < 0.05, $"cosine decay: {string.Join(", ", rates)}");
    }

    [Theory]
    [InlineData(new[] { "--optimizer", "rmsprop" }, "--optimizer 'rmsprop' is not adam, adamw or sgd.")]
    [InlineData(new[] { "--lr-schedule", "step" }, "--lr-schedule 'step' is not constant, cosine or exponential.")]
    [InlineData(new[] { "--weight-decay", "-1" }, "--weight-decay -1 is out of range: expected a non-negative number.")]
    [InlineData(new[] { "--momentum", "0.9" }, "--momentum and --nesterov apply to the sgd optimizer only; this run uses adam.")]
    [InlineData(new[] { "--lr-schedule", "cosine", "--reduce-lr-patience", "2" }, "--reduce-lr-patience needs a constant learning rate, not --lr-schedule cosine")]
    public void Optimizer_options_that_cannot_be_right_are_usage_errors_in_flag_terms(string[] options, string message)
    {
        using var temp = new TempDirectory();

        var (code, _, error) = Run(["train", "--dataset", "synthetic", "--train-limit", "64", "--output", temp.Combine("run"), .. options]);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("TrainConfig", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("run")));
    }

    [Fact]
    public void Fused_kernels_are_off_unless_asked_for_and_printed_and_recorded_when_on()
    {
        using var temp = new TempDirectory();
        string[] common = ["train", "--dataset", "synthetic", "--epochs", "1", "--batch-size", "32", "--train-limit", "64", "--test-limit", "32"];

        var (plainCode, plainOutput, plainError) = Run([.. common, "--output", temp.Combine("plain")]);
        var (code, output, error) = Run([.. common, "--fused-kernels", "--output", temp.Combine("fused")]);

        Assert.True(plainCode == 0, plainError);
        Assert.True(code == 0, error);
        Assert.DoesNotContain("fused", plainOutput, StringComparison.Ordinal);
        Assert.Contains("layout channels-last from the first convolution in training", output, StringComparison.Ordinal);
        Assert.Contains("fused ReLU+BN kernels in training.", output, StringComparison.Ordinal);
        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Combine("fused"), "config.json")));
        Assert.EndsWith("fused ReLU+BN kernels in training", record.RootElement.GetProperty("execution").GetString(), StringComparison.Ordinal);
        using var plainRecord = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Combine("plain"), "config.json")));
        Assert.DoesNotContain("fused", plainRecord.RootElement.GetProperty("execution").GetString(), StringComparison.Ordinal);

        // A resumed (here: extended) run keeps the kernels it recorded; the flag itself is refused with --resume.
        var (resumedCode, resumed, resumedError) = Run("train", "--resume", temp.Combine("fused"), "--epochs", "2");
        Assert.True(resumedCode == 0, resumedError);
        Assert.Contains("fused ReLU+BN kernels in training.", resumed, StringComparison.Ordinal);
        var (plainResumedCode, plainResumed, plainResumedError) = Run("train", "--resume", temp.Combine("plain"), "--epochs", "2");
        Assert.True(plainResumedCode == 0, plainResumedError);
        Assert.DoesNotContain("fused", plainResumed, StringComparison.Ordinal);
    }
}
