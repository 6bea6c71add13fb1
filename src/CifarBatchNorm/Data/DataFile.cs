using System.Runtime.InteropServices;

namespace CifarBatchNorm.Data;

/// <summary>Checks made before a data file is opened, so that a FIFO, a device or a huge file cannot hang or exhaust the process.</summary>
internal static class DataFile
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int ModeTypeMask = 0xF000; // S_IFMT
    private const int RegularFile = 0x8000;  // S_IFREG

    /// <summary>
    /// Throws unless <paramref name="path"/> is a regular file (or a symlink to one) of at most
    /// <paramref name="maxBytes"/> bytes: a FIFO would block the open forever, <c>/dev/zero</c> never ends.
    /// </summary>
    /// <exception cref="DataFormatException">It is something else, or larger than the format allows.</exception>
    public static void RequireRegularFile(string path, long maxBytes, string what)
    {
        if (NotRegularKind(path) is string kind)
        {
            throw new DataFormatException($"{path} is {kind}, not a data file; point at the {what} file itself.");
        }

        long length = new FileInfo(path).Length;
        if (length > maxBytes)
        {
            throw new DataFormatException($"{path}: {length:N0} bytes, more than a {what} file can be ({maxBytes:N0}); it is not the expected file.");
        }
    }

    /// <summary>
    /// What <paramref name="path"/> is when it is not a regular file (or a symlink to one): "a FIFO (named pipe)",
    /// "a character device", ...; <c>null</c> for a regular file, or where the type cannot be known.
    /// </summary>
    public static string? NotRegularKind(string path)
    {
        if (!OperatingSystem.IsLinux() || FileType(path) is not int type || type == RegularFile)
        {
            return null;
        }

        return type switch
        {
            0x1000 => "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0x4000 => "a folder",
            0xC000 => "a socket",
            _ => "not a regular file",
        };
    }

    /// <summary>The file type bits of <paramref name="path"/> after following symlinks (statx), or <c>null</c> when unknown.</summary>
    private static int? FileType(string path)
    {
        var buffer = new byte[256]; // struct statx; stx_mode (u16) sits at offset 28 on every architecture
        try
        {
            return NativeMethods.statx(AtFdCwd, path, 0, StatxType, buffer) == 0 ? BitConverter.ToUInt16(buffer, 28) & ModeTypeMask : null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // a libc without statx: the size check still applies
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int statx(int dirfd, string path, int flags, uint mask, byte[] buffer);
    }
}
