namespace CifarBatchNorm.Data.Download;

/// <summary>
/// Checks a <c>cifar-10-batches-bin</c> folder the way <see cref="Cifar10.ReadFiles"/> would, without loading it:
/// all six .bin files present, each a whole number of 3,073-byte records (exactly the expected count when one is
/// given) and, optionally, every label byte 0-9.
/// </summary>
internal static class BatchFolderCheck
{
    /// <summary>Returns <c>null</c> when the folder is usable, else a one-line description of the first problem.</summary>
    internal static string? FindProblem(string folder, int? expectedRecords, bool scanLabels)
    {
        foreach (string name in (IEnumerable<string>)[.. Cifar10.TrainFiles, Cifar10.TestFile])
        {
            string path = Path.Combine(folder, name);
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return $"{path} is missing";
            }

            long length = info.Length;
            bool sizeOk = expectedRecords is { } records
                ? length == (long)records * Cifar10.RecordSize
                : length > 0 && length % Cifar10.RecordSize == 0;
            if (!sizeOk)
            {
                string expected = expectedRecords is { } r
                    ? $"{(long)r * Cifar10.RecordSize:N0} ({r:N0} records of {Cifar10.RecordSize:N0} bytes)"
                    : $"a positive multiple of {Cifar10.RecordSize:N0}";
                return $"{path} has {length:N0} bytes, expected {expected}";
            }

            if (scanLabels && FindBadLabel(path) is { } bad)
            {
                return $"{path}: record {bad.Record} has label byte {bad.Label}, expected 0-9";
            }
        }

        return null;
    }

    private static (long Record, byte Label)? FindBadLabel(string path)
    {
        const int recordsPerRead = 1000;
        var buffer = new byte[Cifar10.RecordSize * recordsPerRead];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        long record = 0;
        int read;
        while ((read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
        {
            for (int offset = 0; offset < read; offset += Cifar10.RecordSize, record++)
            {
                if (buffer[offset] > 9)
                {
                    return (record, buffer[offset]);
                }
            }
        }

        return null;
    }
}
