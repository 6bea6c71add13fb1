using System.IO.Compression;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// Reads one member of a zip archive within bounds, so that a zip bomb (a few MB that inflate to gigabytes) is refused
/// before it is inflated: the declared size must be within the cap, the compression ratio of a large member plausible,
/// and the bytes actually inflated are counted, since the declared size can lie.
/// </summary>
internal static class ZipMemberGuard
{
    /// <summary>Largest JSON member (<c>config.json</c>, <c>metadata.json</c>): 4 MiB, a thousand times a real config.</summary>
    public const long MaxJsonBytes = 4L << 20;

    /// <summary>Largest ratio of inflated to compressed size accepted for a member over <see cref="RatioFreeBytes"/>.</summary>
    public const int MaxRatio = 100;

    /// <summary>Members up to this size are not ratio-checked (a small config of repeated keys compresses well).</summary>
    private const long RatioFreeBytes = 1L << 20;

    /// <summary>The member's bytes, at most <paramref name="maxBytes"/>.</summary>
    /// <exception cref="ModelFileException">The member declares or inflates to more, or its ratio is a bomb's.</exception>
    public static byte[] Read(ZipArchiveEntry entry, long maxBytes, string source)
    {
        ArgumentNullException.ThrowIfNull(entry);
        long declared = entry.Length;
        if (declared > maxBytes)
        {
            throw new ModelFileException(
                $"{source}: the member {entry.FullName} declares {declared:N0} bytes, more than it can hold ({maxBytes:N0} bytes); the archive is damaged or a zip bomb.");
        }

        if (declared > RatioFreeBytes && declared / Math.Max(1, entry.CompressedLength) > MaxRatio)
        {
            throw new ModelFileException(
                $"{source}: the member {entry.FullName} inflates {declared:N0} bytes from {entry.CompressedLength:N0} (more than {MaxRatio}:1); it is a zip bomb, not a .keras archive.");
        }

        var buffer = new byte[declared];
        try
        {
            using var stream = entry.Open();
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (read == declared && stream.ReadByte() < 0)
            {
                return buffer;
            }
        }
        catch (InvalidDataException e)
        {
            throw new ModelFileException($"{source}: the member {entry.FullName} cannot be inflated ({e.Message.Split('\n')[0]}); the archive is damaged.", e);
        }

        throw new ModelFileException($"{source}: the member {entry.FullName} does not inflate to the {declared:N0} bytes it declares; the archive is damaged.");
    }
}
