using System.Globalization;

namespace CifarBatchNorm.IO;

/// <summary>
/// Writes files so that a reader never sees half of one, even after a power cut: write a temporary sibling, flush it to
/// the disk, rename it into place, and flush the folder (<see cref="Durable"/>).
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) => Write(path, temp => File.WriteAllText(temp, text));

    /// <summary>Runs <paramref name="write"/> on a temporary path, then renames the result over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string temp = $"{full}.tmp-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}";
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
        }
    }
}
