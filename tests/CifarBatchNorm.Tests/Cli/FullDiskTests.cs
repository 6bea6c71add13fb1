using System.Diagnostics;
using CifarBatchNorm.IO;
using CifarBatchNorm.Tests.Interop;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>
/// A full disk and an ended process leave nothing half-written (issue 21): ENOSPC comes from a 4 KiB tmpfs (root only;
/// skipped elsewhere), the end of the process from the exit hook that a SIGTERM runs.
/// </summary>
public sealed class FullDiskTests
{
    [SkippableFact]
    public void A_full_disk_while_writing_config_json_leaves_no_folder_holding_only_its_lock()
    {
        using var temp = new TempDirectory();
        using var disk = TinyDisk.Mount(temp.Combine("disk"));
        string run = Path.Combine(disk.Path, "run");

        var (code, _, error) = Run("train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "64", "--test-limit", "32", "--output", run);
        Assert.Equal(1, code);
        Assert.Contains("No space left on device", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(run), string.Join(", ", Directory.Exists(run) ? Directory.GetFileSystemEntries(run) : []));
    }

    [SkippableFact]
    public void A_full_disk_during_export_weights_h5_is_one_line_and_leaves_no_file()
    {
        using var temp = new TempDirectory();
        using var disk = TinyDisk.Mount(temp.Combine("disk"));
        string target = Path.Combine(disk.Path, "m.weights.h5");

        var (code, _, error) = Run("export", "--weights", InteropFixtures.Path("tiny-bn.keras"), "--format", "weights.h5", "--output", target);
        Assert.Equal(1, code);
        Assert.StartsWith("error: No space left on device", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Empty(Directory.GetFileSystemEntries(disk.Path));
    }

    [Fact]
    public void The_exit_hook_deletes_a_temporary_file_still_being_written()
    {
        using var temp = new TempDirectory();
        string target = temp.Combine("model.keras");
        string? seen = null;

        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(target, path =>
        {
            File.WriteAllText(path, "half of an archive");
            seen = path;
            AtomicFile.DeletePending(); // what AppDomain.ProcessExit runs when SIGTERM ends the process here
            Assert.False(File.Exists(path));
        }));

        Assert.NotNull(seen);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    /// <summary>A 4 KiB tmpfs: one page, taken by the first small file; unmounted on dispose.</summary>
    private sealed class TinyDisk : IDisposable
    {
        private TinyDisk(string path) => Path = path;

        public string Path { get; }

        public static TinyDisk Mount(string path)
        {
            Directory.CreateDirectory(path);
            int code = Execute("mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", path);
            Skip.If(code != 0, "mounting a tmpfs needs root (CAP_SYS_ADMIN); the full-disk case is checked where it can be");
            return new TinyDisk(path);
        }

        public void Dispose() => Execute("umount", Path);

        private static int Execute(string file, params string[] args)
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
                process.WaitForExit();
                return process.ExitCode;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return -1;
            }
        }
    }
}
