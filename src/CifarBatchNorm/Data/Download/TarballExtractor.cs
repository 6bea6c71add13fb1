using System.Formats.Tar;
using System.IO.Compression;

namespace CifarBatchNorm.Data.Download;

/// <summary>
/// Extracts the CIFAR-10 members of <c>cifar-10-binary.tar.gz</c> into a folder, trusting nothing in the archive:
/// member names are never used as paths, only matched against the expected list.
/// </summary>
/// <remarks>
/// Rejected (the whole archive): absolute names, names with a <c>..</c> segment or a backslash, symbolic and hard
/// links, devices, FIFOs and other special members, an expected member that appears twice, and contents that
/// would exceed the byte cap. Skipped: directory entries and regular files that are not expected members.
/// </remarks>
internal static class TarballExtractor
{
    /// <summary>The optional member: the dataset's own HTML readme.</summary>
    internal const string ReadmeFile = "readme.html";

    /// <summary>The class-names file.</summary>
    internal const string MetaFile = "batches.meta.txt";

    /// <summary>Members that must be present, as file names inside <see cref="Cifar10.FolderName"/>.</summary>
    internal static IReadOnlyList<string> RequiredFiles { get; } = [.. Cifar10.TrainFiles, Cifar10.TestFile, MetaFile];

    private static readonly HashSet<string> Extracted = [.. RequiredFiles, ReadmeFile];

    /// <summary>Extracts the expected members of <paramref name="archivePath"/> into <paramref name="targetFolder"/> (which must exist).</summary>
    /// <exception cref="DownloadException">The archive is malformed, unsafe, too large, or lacks a required member.</exception>
    internal static async Task ExtractAsync(string archivePath, string targetFolder, long maxBytes, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long written = 0;
        try
        {
            await using var file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            await using var gzip = new GZipStream(file, CompressionMode.Decompress);
            await using var reader = new TarReader(gzip);
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                string? fileName = Classify(entry, archivePath);
                if (fileName is null)
                {
                    continue;
                }

                if (!seen.Add(fileName))
                {
                    throw Reject(archivePath, entry.Name, "appears twice");
                }

                written += entry.Length;
                if (written > maxBytes)
                {
                    throw new DownloadException(
                        $"Archive {archivePath}: member '{entry.Name}' takes the extracted size past the cap of {maxBytes:N0} bytes (DownloadOptions.MaxExtractedBytes); refusing to extract.");
                }

                string destination = Path.Combine(targetFolder, fileName);
                await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                if (entry.DataStream is { } data)
                {
                    await data.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                }

                if (output.Length != entry.Length)
                {
                    throw Reject(archivePath, entry.Name, $"holds {output.Length:N0} bytes but its header says {entry.Length:N0}");
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new DownloadException($"Archive {archivePath} is not a valid tar.gz ({e.Message}); delete it and download again.", e);
        }

        foreach (string required in RequiredFiles)
        {
            if (!seen.Contains(required))
            {
                throw new DownloadException($"Archive {archivePath} lacks member '{Cifar10.FolderName}/{required}'; it is not the CIFAR-10 binary tarball.");
            }
        }
    }

    /// <summary>Returns the file name to extract the entry to, <c>null</c> to skip it, or throws when the entry is unsafe.</summary>
    private static string? Classify(TarEntry entry, string archivePath)
    {
        string name = entry.Name;
        if (name.Length == 0 || name[0] == '/' || name.Contains('\\', StringComparison.Ordinal) || Path.IsPathRooted(name))
        {
            throw Reject(archivePath, name, "has an absolute or non-portable path");
        }

        string[] segments = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Contains(".."))
        {
            throw Reject(archivePath, name, "has a '..' segment");
        }

        switch (entry.EntryType)
        {
            case TarEntryType.GlobalExtendedAttributes:
            case TarEntryType.Directory:
                return null;
            case TarEntryType.RegularFile:
            case TarEntryType.V7RegularFile:
            case TarEntryType.ContiguousFile:
                break;
            case TarEntryType.SymbolicLink:
                throw Reject(archivePath, name, $"is a symbolic link to '{entry.LinkName}'");
            case TarEntryType.HardLink:
                throw Reject(archivePath, name, $"is a hard link to '{entry.LinkName}'");
            default:
                throw Reject(archivePath, name, $"is a {entry.EntryType} entry, not a regular file");
        }

        // "./cifar-10-batches-bin/x.bin" and "cifar-10-batches-bin/x.bin" name the same member.
        string[] parts = [.. segments.Where(s => s != ".")];
        return parts.Length == 2 && parts[0] == Cifar10.FolderName && Extracted.Contains(parts[1]) ? parts[1] : null;
    }

    private static DownloadException Reject(string archivePath, string member, string reason) =>
        new($"Archive {archivePath}: member '{member}' {reason}; refusing to extract.");
}
