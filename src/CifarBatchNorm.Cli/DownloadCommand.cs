using System.CommandLine;
using CifarBatchNorm.Data.Download;

namespace CifarBatchNorm.Cli;

/// <summary><c>download</c>: fetch, verify and extract the CIFAR-10 binary version into the data folder.</summary>
internal static class DownloadCommand
{
    public static Command Create(TextWriter stdout, CancellationToken cancellationToken)
    {
        var dataDir = CliOptions.DataDir();
        var url = new Option<string?>("--url") { Description = "Mirror of cifar-10-binary.tar.gz (default: CIFAR_BATCHNORM_URL or the official address)" };
        var command = new Command("download", "Download, verify (size, MD5, SHA-256) and extract CIFAR-10 into the data folder.") { dataDir, url };
        command.SetAction(result =>
        {
            string folder = DataCache.Resolve(result.GetValue(dataDir));
            var options = DownloadOptions.FromEnvironment();
            if (result.GetValue(url) is string mirror)
            {
                options = options with { Url = mirror };
            }

            bool live = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
            try
            {
                string ready = Cifar10Downloader.EnsureAsync(folder, options, new ConsoleDownloadProgress(stdout, live), cancellationToken)
                    .GetAwaiter().GetResult();
                stdout.WriteLine($"CIFAR-10 is ready in {ready}");
                return ExitCodes.Success;
            }
            catch (OperationCanceledException)
            {
                throw new RunStoppedException(
                    $"Interrupted. The partial download in {folder} is kept; run 'cifar-bn download' again to resume.", ExitCodes.Interrupted);
            }
        });
        return command;
    }
}
