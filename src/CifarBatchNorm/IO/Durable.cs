using System.Runtime.InteropServices;

namespace CifarBatchNorm.IO;

/// <summary>
/// Pushes written data to the disk (<c>fsync</c>), so that a file renamed into place survives a power cut, not only a
/// crash of the process: flush the file before the rename, and its folder after it (the rename lives in the folder).
/// </summary>
internal static class Durable
{
    /// <summary>Flushes the file <paramref name="path"/> to the disk.</summary>
    public static void FlushFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Flushes every file below <paramref name="folder"/>, then the folders themselves.</summary>
    public static void FlushTree(string folder)
    {
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            FlushFile(file);
        }

        foreach (string dir in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories))
        {
            FlushDirectory(dir);
        }

        FlushDirectory(folder);
    }

    /// <summary>Flushes the folder <paramref name="folder"/> (its entries: creations, renames, deletions) to the disk; a no-op where the platform has no such call.</summary>
    public static void FlushDirectory(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return; // Windows: NTFS journals renames; there is no directory handle to flush
        }

        int fd = Open(folder, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open {folder} to flush it (errno {Marshal.GetLastWin32Error()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"Cannot flush {folder} to the disk (errno {Marshal.GetLastWin32Error()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int fd);
}
