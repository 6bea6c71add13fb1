using System.Collections.Concurrent;
using System.Globalization;

namespace CifarBatchNorm.IO;

/// <summary>
/// Writes files so that a reader never sees half of one, even after a power cut: write a temporary sibling, flush it to
/// the disk, rename it into place, and flush the folder (<see cref="Durable"/>). A temporary file still being written
/// when the process is asked to end (SIGTERM, Ctrl+C) is deleted on the way out.
/// </summary>
internal static class AtomicFile
{
    private static readonly ConcurrentDictionary<string, byte> Pending = new(StringComparer.Ordinal);

    static AtomicFile() => AppDomain.CurrentDomain.ProcessExit += (_, _) => DeletePending();

    /// <summary>Deletes the temporary files of writes in progress (run when the process ends before they finish).</summary>
    internal static void DeletePending()
    {
        foreach (string temp in Pending.Keys)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the process is ending; what cannot be deleted stays
            }
        }
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) => Write(path, temp => File.WriteAllText(temp, text));

    /// <summary>Runs <paramref name="write"/> on a temporary path, then renames the result over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string temp = $"{full}.tmp-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}";
        Pending[temp] = 0;
        try
        {
            write(temp);
            Durable.FlushFile(temp);
            File.Move(temp, full, overwrite: true);
            Durable.FlushDirectory(Path.GetDirectoryName(full)!);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }

            Pending.TryRemove(temp, out _);
        }
    }
}
