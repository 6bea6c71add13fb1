using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Data.Download;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Experiments;

public sealed class DatasetSelectorTests
{
    [Fact]
    public void Auto_with_an_empty_data_dir_falls_back_to_synthetic_and_says_why()
    {
        using var temp = new TempDirectory();

        var data = DatasetSelector.Load(new TrainConfig { DataDir = temp.Path, TrainLimit = 100, TestLimit = 50, Download = false });

        Assert.Equal(DatasetKind.Synthetic, data.Kind);
        Assert.Equal(100, data.Train.Count);
        Assert.Equal(50, data.Test.Count);
        Assert.Equal(ImageShape.Cifar10, data.Train.Shape);
        Assert.Contains($"CIFAR-10 not found in {temp.Path}; Fashion-MNIST not found in {temp.Path}", data.Reason);
    }

    [Fact]
    public async Task Auto_tries_one_download_and_says_why_it_fell_back()
    {
        using var temp = new TempDirectory();
        await using var server = new LoopbackServer((_, _) => ServedResponse.Error(404));
        string url = server.Url;

        var data = DatasetSelector.Load(new TrainConfig { DataDir = temp.Path, TrainLimit = 10, TestLimit = 10, DownloadUrl = url });

        Assert.Equal(DatasetKind.Synthetic, data.Kind);
        Assert.Single(server.Requests);
        Assert.StartsWith($"Using the synthetic CIFAR-10-shaped set, seed 42 (CIFAR-10 not found in {temp.Path} and download failed: ", data.Reason);
        Assert.Contains("404", data.Reason);
        Assert.Contains(url, data.Reason);
    }

    [Fact]
    public async Task Explicit_cifar10_downloads_and_never_falls_back()
    {
        using var temp = new TempDirectory();
        await using var server = new LoopbackServer((_, _) => ServedResponse.Error(403));

        var error = Assert.Throws<DatasetNotFoundException>(() => DatasetSelector.Load(
            new TrainConfig { Dataset = DatasetKind.Cifar10, DataDir = temp.Path, DownloadUrl = server.Url }));

        Assert.StartsWith($"CIFAR-10 not found in {temp.Path} and could not be downloaded: ", error.Message);
        Assert.Contains("403", error.Message);
        Assert.EndsWith("Extract cifar-10-binary.tar.gz there, set TrainConfig.DataDir to where it is, or set a mirror in TrainConfig.DownloadUrl.", error.Message);
    }

    [Fact]
    public void Auto_prefers_cifar10_when_its_files_are_in_the_data_dir()
    {
        using var temp = new TempDirectory();
        string folder = temp.Combine(Cifar10.FolderName);
        Directory.CreateDirectory(folder);
        var record = new byte[Cifar10.RecordSize * Cifar10.RecordsPerFile];
        for (int r = 0; r < Cifar10.RecordsPerFile; r++)
        {
            record[r * Cifar10.RecordSize] = (byte)(r % 10);
        }

        foreach (string file in Cifar10.TrainFiles.Append(Cifar10.TestFile))
        {
            File.WriteAllBytes(Path.Combine(folder, file), record);
        }

        var data = DatasetSelector.Load(new TrainConfig { DataDir = temp.Path, TestLimit = 10 });

        Assert.Equal(DatasetKind.Cifar10, data.Kind);
        Assert.Equal(50_000, data.Train.Count);
        Assert.Equal(10, data.Test.Count);
        Assert.StartsWith($"Using CIFAR-10 from {temp.Path}", data.Reason);
    }

    [SkippableFact]
    public void Auto_uses_fashion_mnist_when_cifar10_is_absent_and_the_package_is_installed()
    {
        using var temp = new TempDirectory();
        RequiredData.FashionMnist();
        string? saved = Environment.GetEnvironmentVariable(DatasetSelector.DataDirVariable);
        Environment.SetEnvironmentVariable(DatasetSelector.DataDirVariable, temp.Path);
        try
        {
            var data = DatasetSelector.Load(new TrainConfig { TrainLimit = 10, TestLimit = 10, Download = false });

            Assert.Equal(DatasetKind.FashionMnist, data.Kind);
            Assert.Equal(new ImageShape(28, 28, 1), data.Train.Shape);
            Assert.Equal($"Using Fashion-MNIST from {FashionMnist.DebianDirectory} (CIFAR-10 not found in {temp.Path}).", data.Reason);
        }
        finally
        {
            Environment.SetEnvironmentVariable(DatasetSelector.DataDirVariable, saved);
        }
    }
}
