using System.CommandLine;
using CifarBatchNorm.Data.Download;

namespace CifarBatchNorm.Cli;

/// <summary><c>download</c>: fetch, verify and extract the CIFAR-10 binary version into the data folder.</summary>
internal static class DownloadCommand
{
    public static CliCommand Create(CliSession cli)
    {
        var stdout = cli.Stdout;
        var dataDir = CliOptions.DataDir();
        var url = CliOptions.Url();
        var force = new Option<bool>("--force") { Description = "Download and replace CIFAR-10 even when a copy is there and passes its checks" };
        var command = new CliCommand("download", "Download, verify (size, MD5, SHA-256) and extract CIFAR-10 into the data folder; a copy already there is checked record by record and replaced when corrupt.", stopsGracefully: true)
        {
            dataDir, url, force,
        };
        command.SetAction(result =>
        {
            string folder = DataCache.Resolve(result.GetValue(dataDir));
            var options = DownloadOptions.FromEnvironment() with
            {
                Existing = result.GetValue(force) ? ExistingData.Replace : ExistingData.VerifyAndReplace,
            };
            if (result.GetValue(url) is string mirror)
            {
                options = options with { Url = mirror };
            }

            bool live = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
            try
            {
                string ready = Cifar10Downloader.EnsureAsync(folder, options, new ConsoleDownloadProgress(stdout, live), cli.CancellationToken)
                    .GetAwaiter().GetResult();
                stdout.WriteLine($"CIFAR-10 is ready in {ready}");
                return ExitCodes.Success;
            }
            catch (OperationCanceledException)
            {
                throw new RunStoppedException(
                    $"Interrupted. The partial download in {folder} is kept; run '{CliName.Command("download")}' again to resume.", ExitCodes.Interrupted);
            }
        });
        return command;
    }
}
