using CifarBatchNorm.Experiments;
using CifarBatchNorm.Runtime;
using TorchSharp;

namespace CifarBatchNorm.Tests.Runtime;

public sealed class DeviceSelectorTests
{
    [Theory]
    [InlineData("auto", "auto")]
    [InlineData(" AUTO ", "auto")]
    [InlineData("cpu", "cpu")]
    [InlineData("CPU", "cpu")]
    [InlineData("cuda", "cuda")]
    [InlineData("cuda:0", "cuda:0")]
    [InlineData("Cuda:3", "cuda:3")]
    [InlineData("cuda:01", "cuda:1")]
    public void Normalize_accepts_auto_cpu_cuda_and_cuda_index(string name, string expected) =>
        Assert.Equal(expected, DeviceSelector.Normalize(name));

    [Theory]
    [InlineData("")]
    [InlineData("gpu")]
    [InlineData("mps")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:+1")]
    [InlineData("cuda:x")]
    [InlineData("cuda:1.5")]
    [InlineData("cuda:1024")]
    [InlineData("cuda 0")]
    public void Normalize_rejects_other_names_naming_the_value_and_the_choices(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceSelector.Normalize(name));

        Assert.Equal($"Unknown device '{name}': use auto, cpu, cuda or cuda:N (N = 0, 1, ...).", e.Message);
    }

    [Theory]
    [InlineData("auto", false, 0, "cpu")]
    [InlineData("auto", true, 2, "cuda:0")]
    [InlineData("auto", true, 0, "cpu")]
    [InlineData("cpu", true, 2, "cpu")]
    [InlineData("cpu", false, 0, "cpu")]
    [InlineData("cuda", true, 1, "cuda:0")]
    [InlineData("cuda:1", true, 2, "cuda:1")]
    public void Choose_picks_cuda_for_auto_only_when_usable_and_honours_explicit_requests(string name, bool available, int count, string expected) =>
        Assert.Equal(expected, DeviceSelector.Choose(name, available, count));

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    [InlineData("CUDA:1")]
    public void Cuda_request_without_cuda_fails_with_one_line_that_says_how_to_rebuild(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceSelector.Choose(name, cudaAvailable: false, cudaDeviceCount: 0));

        Assert.Equal(
            "CUDA was requested but this build uses the CPU TorchSharp backend (or no GPU is visible); "
            + "rebuild with -p:TorchBackend=cuda-linux (or cuda-windows) and check nvidia-smi.", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Null(e.ParamName);
    }

    [Fact]
    public void Cuda_index_beyond_the_visible_devices_names_the_valid_range()
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceSelector.Choose("cuda:2", cudaAvailable: true, cudaDeviceCount: 2));

        Assert.Equal("Device cuda:2 was requested but only 2 CUDA device(s) are visible: use cuda:0 to cuda:1.", e.Message);
    }

    [Fact]
    public void Resolve_gives_torch_devices_and_refuses_cuda_on_this_cpu_build()
    {
        Assert.Equal(DeviceType.CPU, DeviceSelector.Resolve("cpu").type);
        if (torch.cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, DeviceSelector.Resolve("auto").type);
            return;
        }

        Assert.Equal(DeviceType.CPU, DeviceSelector.Resolve("auto").type);
        var e = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve("cuda"));
        Assert.Equal(DeviceSelector.CudaUnavailableMessage, e.Message);
    }

    [Fact]
    public void Train_config_defaults_to_auto_and_validates_the_device_name()
    {
        Assert.Equal("auto", TrainConfig.Notebook.Device);
        var e = Assert.Throws<ArgumentException>(() => (TrainConfig.Notebook with { Device = "tpu" }).Validate());
        Assert.Contains("Unknown device 'tpu'", e.Message);
    }
}
