namespace CifarBatchNorm.Data;

/// <summary>
/// Reads the CIFAR-10 binary version (<c>cifar-10-batches-bin/</c>): five training files and one test file,
/// each exactly 10,000 records of 3,073 bytes (one label byte 0-9, then 1,024 red, 1,024 green and 1,024 blue
/// bytes, row-major 32x32). The channel-major record layout is the dataset's own layout, copied as is.
/// </summary>
public static class Cifar10
{
    /// <summary>Name of the folder inside the official tarball.</summary>
    public const string FolderName = "cifar-10-batches-bin";

    /// <summary>Images per file.</summary>
    public const int RecordsPerFile = 10_000;

    /// <summary>Bytes per record: one label byte and 32x32x3 pixels.</summary>
    public const int RecordSize = 1 + (32 * 32 * 3);

    /// <summary>The training files, in order.</summary>
    public static IReadOnlyList<string> TrainFiles { get; } =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    /// <summary>The test file.</summary>
    public const string TestFile = "test_batch.bin";

    /// <summary>The ten classes, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>
    /// Finds the folder holding the .bin files: <paramref name="directory"/> itself or its
    /// <c>cifar-10-batches-bin</c> subfolder. Returns <c>null</c> when neither has <c>test_batch.bin</c>.
    /// </summary>
    public static string? Locate(string directory)
    {
        foreach (string candidate in new[] { Path.Combine(directory, FolderName), directory })
        {
            if (File.Exists(Path.Combine(candidate, TestFile)))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Loads the training and test sets (50,000 and 10,000 images).</summary>
    /// <param name="directory">The <c>cifar-10-batches-bin</c> folder or the folder that contains it.</param>
    /// <exception cref="DatasetNotFoundException">The files are not there.</exception>
    /// <exception cref="DataFormatException">A file has the wrong size or a label byte above 9.</exception>
    public static (ImageDataset Train, ImageDataset Test) Load(string directory)
    {
        string folder = Locate(directory) ?? throw new DatasetNotFoundException(
            $"CIFAR-10 not found: no {FolderName}/{TestFile} in {Path.GetFullPath(directory)}. "
            + "Download it (Cifar10Downloader) or extract cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html there.");
        var train = ReadFiles(folder, TrainFiles, "CIFAR-10 train");
        var test = ReadFiles(folder, [TestFile], "CIFAR-10 test");
        return (train, test);
    }

    /// <summary>Reads and validates the given .bin files into one dataset.</summary>
    public static ImageDataset ReadFiles(string folder, IReadOnlyList<string> files, string name)
    {
        const int imageSize = RecordSize - 1;
        var pixels = new byte[files.Count * RecordsPerFile * imageSize];
        var labels = new byte[files.Count * RecordsPerFile];
        var record = new byte[RecordSize * 1000];
        for (int f = 0; f < files.Count; f++)
        {
            string path = Path.Combine(folder, files[f]);
            if (!File.Exists(path))
            {
                throw new DatasetNotFoundException(
                    $"CIFAR-10 file missing: {path}. Extract the complete cifar-10-binary.tar.gz (or download it again with Cifar10Downloader).");
            }

            long expected = (long)RecordsPerFile * RecordSize;
            // A FIFO, a device or a link to /dev/zero is refused before it is opened; a huge file before it is read.
            DataFile.RequireRegularFile(path, long.MaxValue, "CIFAR-10 .bin");   // the exact size is checked next
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            if (stream.Length != expected)
            {
                throw new DataFormatException(
                    $"{path}: {stream.Length:N0} bytes, expected {expected:N0} (10,000 records of 3,073 bytes); the file is truncated or not CIFAR-10 binary. Download it again.");
            }

            int imageBase = f * RecordsPerFile;
            for (int chunk = 0; chunk < RecordsPerFile; chunk += 1000)
            {
                stream.ReadExactly(record);
                for (int r = 0; r < 1000; r++)
                {
                    int image = imageBase + chunk + r;
                    byte label = record[r * RecordSize];
                    if (label > 9)
                    {
                        throw new DataFormatException(
                            $"{path}: record {chunk + r} has label byte {label}, expected 0-9; the file is corrupted. Download it again.");
                    }

                    labels[image] = label;
                    Buffer.BlockCopy(record, (r * RecordSize) + 1, pixels, image * imageSize, imageSize);
                }
            }
        }

        return new ImageDataset(name, ImageShape.Cifar10, pixels, labels, ClassNames);
    }
}
