using System.Text.Json;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

public sealed class AppTests
{
    [Fact]
    public void Train_on_synthetic_data_writes_a_complete_run_folder_that_evaluate_reads()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var (code, output, error) = Run("train", "--dataset", "synthetic", "--epochs", "2", "--batch-size", "64",
            "--train-limit", "640", "--test-limit", "128", "--seed", "3", "--output", run);

        Assert.True(code == 0, error);
        Assert.Contains("Using the synthetic CIFAR-10-shaped set, seed 3", output);
        Assert.Contains("Total params: 270,482 (1.03 MB)", output);
        Assert.Contains("Epoch 1/2", output);
        Assert.Matches(@"10/10 ━{20} \d+s \d+ms/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}", output);
        Assert.Contains("Test loss: ", output);
        foreach (string file in new[] { "model.pt", "config.json", "history.json", "history.csv", "summary.txt", "evaluation.json" })
        {
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing");
        }

        string[] csv = File.ReadAllLines(Path.Combine(run, "history.csv"));
        Assert.Equal("epoch,accuracy,learning_rate,loss,seconds,train_seconds,val_accuracy,val_loss", csv[0]);
        Assert.Equal(3, csv.Length);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal("synthetic", config.RootElement.GetProperty("dataset").GetString());
        Assert.Equal(640, config.RootElement.GetProperty("train_samples").GetInt32());
        Assert.Equal(64, config.RootElement.GetProperty("config").GetProperty("batch_size").GetInt32());
        Assert.Contains("Total params: 270,482", File.ReadAllText(Path.Combine(run, "summary.txt")));
        Assert.Empty(Directory.GetDirectories(temp.Path, ".run.partial-*", SearchOption.TopDirectoryOnly));

        using var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "evaluation.json")));
        double accuracy = evaluation.RootElement.GetProperty("accuracy").GetDouble();
        var (evalCode, evalOutput, evalError) = Run("evaluate", "--model", Path.Combine(run, "model.pt"));
        Assert.True(evalCode == 0, evalError);
        Assert.Contains($"test accuracy: {accuracy:0.0000}", evalOutput);
    }

    [Fact]
    public void Summary_command_prints_the_keras_table_for_the_requested_shape()
    {
        var (code, output, _) = Run("summary", "--input-shape", "28x28x1");

        Assert.Equal(0, code);
        Assert.Contains("│ flatten (Flatten)               │ (None, 784)            │             0 │", output);
        Assert.Contains("Non-trainable params: 608 (2.38 KB)", output);
    }

    [Theory]
    [InlineData("--epochs", "0", "--epochs 0 is out of range: expected 1 to 100000.")]
    [InlineData("--epochs", "-3", "--epochs -3 is out of range")]
    [InlineData("--batch-size", "0", "--batch-size 0 is out of range: expected 1 to 65536.")]
    [InlineData("--batch-size", "99999999", "--batch-size 99999999 is out of range")]
    [InlineData("--learning-rate", "0", "--learning-rate 0 is out of range: expected a number in (0, 10].")]
    [InlineData("--learning-rate", "-1", "--learning-rate -1 is out of range")]
    [InlineData("--threads", "0", "--threads 0 is out of range: expected 1 to 1024.")]
    [InlineData("--train-limit", "0", "--train-limit 0 is out of range")]
    [InlineData("--test-limit", "-5", "--test-limit -5 is out of range")]
    [InlineData("--bn-momentum", "1", "--bn-momentum 1 is out of range: expected [0, 1).")]
    [InlineData("--dataset", "mnist", "Unknown dataset 'mnist': use auto, cifar10, fashion-mnist or synthetic.")]
    [InlineData("--variant", "layernorm", "Unknown variant 'layernorm'")]
    [InlineData("--epochs", "many", "many")]
    public void Bad_options_get_one_clear_line_and_exit_code_2(string option, string value, string message)
    {
        using var temp = new TempDirectory();

        var (code, output, error) = Run("train", option, value, "--output", temp.Combine("run"));

        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error);
        Assert.Empty(output);
        Assert.False(Directory.Exists(temp.Combine("run")));
    }

    [Fact]
    public void Explicit_cifar10_without_files_fails_naming_the_folder_and_the_fix()
    {
        using var temp = new TempDirectory();

        var (code, _, error) = Run("train", "--dataset", "cifar10", "--no-download", "--data-dir", temp.Path, "--output", temp.Combine("run"));

        Assert.Equal(1, code);
        Assert.StartsWith($"error: CIFAR-10 not found: no cifar-10-batches-bin/test_batch.bin in {temp.Path}.", error);
        Assert.Contains("cifar-bn download", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void Explicit_fashion_mnist_without_files_fails_with_the_install_command()
    {
        using var temp = new TempDirectory();

        var (code, _, error) = Run("train", "--dataset", "fashion-mnist", "--data-dir", temp.Path, "--output", temp.Combine("run"));

        Assert.Equal(1, code);
        Assert.Contains("apt-get install dataset-fashion-mnist", error);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void Output_that_is_a_file_or_holds_a_run_is_refused()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("taken");
        File.WriteAllText(file, "x");
        string busy = temp.Combine("busy");
        Directory.CreateDirectory(busy);
        File.WriteAllText(Path.Combine(busy, "config.json"), "{}");

        var (fileCode, _, fileError) = Run("train", "--dataset", "synthetic", "--output", file);
        var (busyCode, _, busyError) = Run("train", "--dataset", "synthetic", "--output", busy);

        Assert.Equal(ExitCodes.UsageError, fileCode);                  // refused while parsing, before any data is loaded
        Assert.Contains($"--output {file} is a file", fileError);
        Assert.Equal(1, busyCode);
        Assert.Contains("already exists and is not empty", busyError);
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Fact]
    public void Evaluate_with_a_missing_or_corrupted_model_fails_naming_the_file()
    {
        using var temp = new TempDirectory();
        string missing = temp.Combine("nothing", "model.pt");

        var (code, _, error) = Run("evaluate", "--model", missing);

        Assert.Equal(1, code);
        Assert.Contains($"{missing} not found: give a run folder, a weights file inside one, or a .keras archive.", error);
        Assert.DoesNotContain("   at ", error);
    }
}
