using System.Text.Json;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Tests.Support;
using TorchSharp;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

public sealed class DeviceOptionTests
{
    [Theory]
    [InlineData("train", "gpu")]
    [InlineData("train", "cuda:x")]
    [InlineData("evaluate", "tpu")]
    public void Unknown_device_is_a_usage_error_with_exit_code_2(string command, string device)
    {
        string[] args = command == "evaluate" ? ["evaluate", "--model", "nowhere", "--device", device] : [command, "--device", device];

        var (code, _, error) = Run(args);

        Assert.Equal(2, code);
        Assert.Contains($"error: Unknown device '{device}': use auto, cpu, cuda or cuda:N", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void Device_option_is_listed_in_train_and_evaluate_help()
    {
        Assert.Contains("--device", Run("train", "--help").Out);
        Assert.Contains("--device", Run("evaluate", "--help").Out);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("compare")]
    [InlineData("analyze")]
    public void Cuda_on_the_cpu_build_is_a_user_error_with_the_rebuild_hint_and_leaves_no_run_folder(string command)
    {
        if (torch.cuda.is_available())
        {
            return; // a CUDA build on a GPU machine trains instead
        }

        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var (code, _, error) = Run(command, "--dataset", "synthetic", "--epochs", "1", "--train-limit", "64", "--test-limit", "32",
            "--device", "cuda", "--output", run);

        Assert.Equal(1, code);
        Assert.Equal($"error: {DeviceSelector.CudaUnavailableMessage}", error.Trim());
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void Train_on_cpu_records_the_device_in_the_run_config_and_evaluate_accepts_it()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var (code, _, error) = Run("train", "--dataset", "synthetic", "--epochs", "1", "--batch-size", "32", "--train-limit", "64",
            "--test-limit", "32", "--device", "CPU", "--output", run);

        Assert.True(code == 0, error);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal("cpu", config.RootElement.GetProperty("config").GetProperty("device").GetString());
        var (evalCode, output, evalError) = Run("evaluate", "--model", run, "--device", "cpu");
        Assert.True(evalCode == 0, evalError);
        Assert.Contains("Test loss: ", output);
    }
}
