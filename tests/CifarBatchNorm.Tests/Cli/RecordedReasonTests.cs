using System.Text.Json;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>What a CLI run records for its user (<c>dataset_reason</c>) names the CLI's commands and flags, not the library's types.</summary>
public sealed class RecordedReasonTests
{
    [Fact]
    public void A_cli_runs_dataset_reason_names_the_url_flag()
    {
        using var temp = new TempDirectory();
        string empty = temp.Combine("no-data");
        Directory.CreateDirectory(empty);
        string run = temp.Combine("run");

        var (code, _, error) = Run("train", "--dataset", "auto", "--data-dir", empty, "--url", RefusedUrl(), "--epochs", "1",
            "--batch-size", "32", "--train-limit", "64", "--test-limit", "32", "--output", run);

        Assert.True(code == 0, error);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        string reason = config.RootElement.GetProperty("dataset_reason").GetString()!;
        Assert.Contains($"CIFAR-10 not found in {empty} and download failed", reason, StringComparison.Ordinal);
        Assert.Contains("set another address in --url or CIFAR_BATCHNORM_URL", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("DownloadOptions", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_library_runs_dataset_reason_keeps_the_librarys_names()
    {
        using var temp = new TempDirectory();
        string empty = temp.Combine("no-data");
        Directory.CreateDirectory(empty);
        var config = new TrainConfig
        {
            Dataset = DatasetKind.Auto, DataDir = empty, DownloadUrl = RefusedUrl(), Epochs = 1, BatchSize = 32, TrainLimit = 64, TestLimit = 32,
        };

        var run = NotebookExperiment.Run(TestSession.Start(), config, temp.Combine("run"));

        using var recorded = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Folder, "config.json")));
        Assert.Contains("set another address in DownloadOptions.Url or CIFAR_BATCHNORM_URL", recorded.RootElement.GetProperty("dataset_reason").GetString(), StringComparison.Ordinal);
    }

    /// <summary>An address on this machine where nothing listens (the port was just free), so the download fails at once.</summary>
    private static string RefusedUrl()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/cifar-10-binary.tar.gz";
    }
}
