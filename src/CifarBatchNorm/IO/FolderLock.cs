using System.Runtime.InteropServices;

namespace CifarBatchNorm.IO;

/// <summary>
/// An exclusive <c>flock</c> on a folder itself, held through an open handle of the folder for as long as this object
/// lives (and dropped by the kernel when the process ends, however it ends). Unlike a lock on a file inside the
/// folder, it cannot be defeated by deleting that file: a second process opening the same folder meets the same lock.
/// Linux only; elsewhere it holds nothing and the lock file alone guards the folder.
/// </summary>
internal sealed class FolderLock : IDisposable
{
    private const int ReadOnly = 0;          // O_RDONLY: a folder opens read-only on every Linux architecture
    private const int CloseOnExec = 0x80000; // O_CLOEXEC: a child process does not inherit the lock
    private const int Exclusive = 2;         // LOCK_EX
    private const int NonBlocking = 4;       // LOCK_NB
    private const int WouldBlock = 11;       // EWOULDBLOCK

    private int _descriptor;

    private FolderLock(int descriptor) => _descriptor = descriptor;

    /// <summary>Locks <paramref name="path"/>; <c>null</c> when another process holds it.</summary>
    /// <exception cref="IOException">The folder cannot be opened or locked for another reason.</exception>
    public static FolderLock? TryAcquire(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new FolderLock(-1);
        }

        int descriptor = NativeMethods.open(path, ReadOnly | CloseOnExec);
        if (descriptor < 0)
        {
            throw new IOException($"{path} cannot be opened to lock it (errno {Marshal.GetLastPInvokeError()}).");
        }

        if (NativeMethods.flock(descriptor, Exclusive | NonBlocking) == 0)
        {
            return new FolderLock(descriptor);
        }

        int error = Marshal.GetLastPInvokeError();
        _ = NativeMethods.close(descriptor);
        return error == WouldBlock ? null : throw new IOException($"{path} cannot be locked (errno {error}).");
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose()
    {
        if (_descriptor >= 0)
        {
            _ = NativeMethods.close(_descriptor);
            _descriptor = -1;
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int open(string path, int flags);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int flock(int fd, int operation);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int close(int fd);
    }
}
