using System.Buffers.Binary;
using System.IO.Compression;

namespace CifarBatchNorm.Data;

/// <summary>
/// Reads Fashion-MNIST in IDX format, gzip-compressed or raw: images with magic 0x00000803 (count, 28, 28)
/// and labels with magic 0x00000801 (count), header integers big-endian.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>The ten classes, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Whether <paramref name="directory"/> holds the four files (gzip or raw).</summary>
    public static bool IsPresent(string directory) =>
        new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" }
            .All(stem => FindFile(directory, stem) is not null);

    /// <summary>Loads the training (60,000) and test (10,000) sets.</summary>
    /// <param name="directory">Folder holding the IDX files; Debian's location when <c>null</c>.</param>
    /// <exception cref="DatasetNotFoundException">A file is not there.</exception>
    /// <exception cref="DataFormatException">A file has a wrong magic number, size or label.</exception>
    public static (ImageDataset Train, ImageDataset Test) Load(string? directory = null)
    {
        directory ??= DebianDirectory;
        var train = LoadPair(directory, "train", "Fashion-MNIST train");
        var test = LoadPair(directory, "t10k", "Fashion-MNIST test");
        return (train, test);
    }

    private static ImageDataset LoadPair(string directory, string prefix, string name)
    {
        string imagesPath = Require(directory, $"{prefix}-images-idx3-ubyte");
        string labelsPath = Require(directory, $"{prefix}-labels-idx1-ubyte");
        var (pixels, count, rows, cols) = ReadImages(imagesPath);
        byte[] labels = ReadLabels(labelsPath);
        if (labels.Length != count)
        {
            throw new DataFormatException($"{labelsPath}: {labels.Length} labels but {imagesPath} has {count} images; the two files must match.");
        }

        return new ImageDataset(name, new ImageShape(rows, cols, 1), pixels, labels, ClassNames);
    }

    /// <summary>Fashion-MNIST's images are 28x28; a header that says otherwise is not Fashion-MNIST.</summary>
    private const int Side = 28;

    /// <summary>The most images an IDX file of this dataset may announce (the training split has 60,000).</summary>
    private const int MaxImages = 1_000_000;

    /// <summary>The largest file accepted: the raw bytes of <see cref="MaxImages"/> images plus the header.</summary>
    private const long MaxFileBytes = 16 + ((long)MaxImages * Side * Side);

    /// <summary>Reads an IDX image file (idx3, uint8).</summary>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        byte[] data = ReadAll(path, 16, header =>
        {
            int announced = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            int r = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8));
            int c = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(12));
            if (BinaryPrimitives.ReadInt32BigEndian(header) == ImagesMagic && (r != Side || c != Side || announced < 1 || announced > MaxImages))
            {
                throw new DataFormatException(
                    $"{path}: header says {announced:N0} images of {r}x{c}; Fashion-MNIST has up to {MaxImages:N0} images of {Side}x{Side}. It is not a Fashion-MNIST file.");
            }

            return 16 + ((long)Math.Max(announced, 0) * Side * Side);
        });
        if (data.Length < 16 || BinaryPrimitives.ReadInt32BigEndian(data) != ImagesMagic)
        {
            throw new DataFormatException(
                $"{path}: not an IDX image file (magic {Magic(data)}, expected 0x00000803). Reinstall dataset-fashion-mnist or download the file again.");
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(12));
        if (count < 1 || rows < 1 || cols < 1 || rows > 4096 || cols > 4096)
        {
            throw new DataFormatException($"{path}: header says {count} images of {rows}x{cols}; expected a positive count and size.");
        }

        long expected = 16 + ((long)count * rows * cols);
        if (data.Length != expected)
        {
            throw new DataFormatException(
                $"{path}: {data.Length:N0} bytes, expected {expected:N0} for {count:N0} images of {rows}x{cols}; the file is truncated or corrupted.");
        }

        return (data[16..], count, rows, cols);
    }

    /// <summary>Reads an IDX label file (idx1, uint8, values 0-9).</summary>
    public static byte[] ReadLabels(string path)
    {
        byte[] data = ReadAll(path, 8, header =>
        {
            int announced = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            return BinaryPrimitives.ReadInt32BigEndian(header) == LabelsMagic && announced is > 0 and <= MaxImages ? 8 + announced : 8;
        });
        if (data.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(data) != LabelsMagic)
        {
            throw new DataFormatException(
                $"{path}: not an IDX label file (magic {Magic(data)}, expected 0x00000801). Reinstall dataset-fashion-mnist or download the file again.");
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        if (count < 1 || data.Length != 8L + count)
        {
            throw new DataFormatException(
                $"{path}: {data.Length:N0} bytes, expected {8L + count:N0} for {count:N0} labels; the file is truncated or corrupted.");
        }

        byte[] labels = data[8..];
        int bad = Array.FindIndex(labels, l => l > 9);
        if (bad >= 0)
        {
            throw new DataFormatException($"{path}: label {labels[bad]} at index {bad}, expected 0-9; the file is corrupted.");
        }

        return labels;
    }

    private static string Require(string directory, string stem) =>
        FindFile(directory, stem) ?? throw new DatasetNotFoundException(
            $"Fashion-MNIST file {stem}[.gz] not found in {Path.GetFullPath(directory)}. "
            + "Install it with 'apt-get install dataset-fashion-mnist' or set the data directory (TrainConfig.DataDir) to a folder holding the IDX files.");

    private static string? FindFile(string directory, string stem)
    {
        foreach (string name in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx", StringComparison.Ordinal) })
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>
    /// The file's bytes, gunzipped when it is gzip. Never more than the header announces: the first
    /// <paramref name="headerBytes"/> bytes are read, <paramref name="expectedLength"/> says how long the whole file
    /// must be (or throws), and at most one byte more is read to tell a file that is too long. A gzip bomb or a link to
    /// <c>/dev/zero</c> therefore costs at most the announced size, which is itself bounded.
    /// </summary>
    private static byte[] ReadAll(string path, int headerBytes, Func<byte[], long> expectedLength)
    {
        try
        {
            DataFile.RequireRegularFile(path, MaxFileBytes, "Fashion-MNIST IDX");
            using var file = File.OpenRead(path);
            int first = file.ReadByte(), second = file.ReadByte();
            file.Position = 0;
            bool gzip = first == 0x1f && second == 0x8b;
            using Stream source = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            byte[] header = new byte[headerBytes];
            int got = source.ReadAtLeast(header, headerBytes, throwOnEndOfStream: false);
            if (got < headerBytes)
            {
                return header[..got]; // too short for a header: the callers report the magic
            }

            long length = expectedLength(header);
            var data = new byte[Math.Max(length, headerBytes) + 1];
            header.CopyTo(data, 0);
            int total = headerBytes + source.ReadAtLeast(data.AsSpan(headerBytes), data.Length - headerBytes, throwOnEndOfStream: false);
            if (gzip && total < length && total != GzipDeclaredSize(path))
            {
                // GZipStream stops quietly at the end of a cut file; the trailer's size field (ISIZE) tells.
                throw new DataFormatException($"{path}: the gzip data is truncated or corrupted ({total:N0} bytes decompressed). Reinstall dataset-fashion-mnist or download the file again.");
            }

            return data[..total]; // one byte more than announced shows a file that is too long
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{path}: the gzip data is corrupted ({e.Message}). Reinstall dataset-fashion-mnist or download the file again.", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException($"{path}: the gzip data ends early; the file is truncated. Reinstall dataset-fashion-mnist or download the file again.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DataFormatException($"{path}: cannot be read ({e.Message}). Check its permissions.", e);
        }
    }

    /// <summary>The uncompressed size a gzip file's trailer declares (ISIZE, modulo 2^32), or -1 when it is too short.</summary>
    private static long GzipDeclaredSize(string path)
    {
        using var file = File.OpenRead(path);
        if (file.Length < 18)
        {
            return -1;
        }

        file.Seek(-4, SeekOrigin.End);
        Span<byte> size = stackalloc byte[4];
        file.ReadExactly(size);
        return BinaryPrimitives.ReadUInt32LittleEndian(size);
    }

    private static string Magic(byte[] data) =>
        data.Length >= 4 ? $"0x{BinaryPrimitives.ReadInt32BigEndian(data):X8}" : $"missing, only {data.Length} bytes";
}
