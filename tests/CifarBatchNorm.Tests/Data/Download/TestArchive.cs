using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using CifarBatchNorm.Data;
using CifarBatchNorm.Data.Download;

namespace CifarBatchNorm.Tests.Data.Download;

/// <summary>Small tarballs in the exact CIFAR-10 layout (a few records per file), built in memory.</summary>
internal static class TestArchive
{
    public const int RecordsPerFile = 3;

    public static IReadOnlyList<string> BinFiles { get; } = [.. Cifar10.TrainFiles, Cifar10.TestFile];

    /// <summary>The content of the <paramref name="index"/>-th .bin file: labels and pixels derived from the index.</summary>
    public static byte[] BinFile(int index)
    {
        var data = new byte[RecordsPerFile * Cifar10.RecordSize];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = i % Cifar10.RecordSize == 0
                ? (byte)((index + (i / Cifar10.RecordSize)) % 10)
                : (byte)((index * 31) + i);
        }

        return data;
    }

    /// <summary>
    /// A .tar.gz with <paramref name="before"/>'s entries, then the CIFAR-10 members (unless
    /// <paramref name="standardMembers"/> is false), then <paramref name="after"/>'s.
    /// </summary>
    public static byte[] Build(Action<TarWriter>? before = null, Action<TarWriter>? after = null, bool standardMembers = true)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            before?.Invoke(tar);
            if (standardMembers)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, Cifar10.FolderName + "/"));
                for (int i = 0; i < BinFiles.Count; i++)
                {
                    AddFile(tar, $"{Cifar10.FolderName}/{BinFiles[i]}", BinFile(i));
                }

                AddFile(tar, $"{Cifar10.FolderName}/batches.meta.txt", System.Text.Encoding.ASCII.GetBytes(string.Join('\n', Cifar10.ClassNames) + "\n"));
            }

            after?.Invoke(tar);
        }

        return buffer.ToArray();
    }

    public static void AddFile(TarWriter tar, string name, byte[] data) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });

    /// <summary>Options for <paramref name="archive"/> on <paramref name="url"/>: its size and checksums, 3 records per file, short delays.</summary>
    public static DownloadOptions OptionsFor(byte[] archive, string url) => new()
    {
        Url = url,
        ExpectedSize = archive.Length,
        ExpectedMd5 = Convert.ToHexStringLower(MD5.HashData(archive)),
        ExpectedSha256 = Convert.ToHexStringLower(SHA256.HashData(archive)),
        ExpectedRecordsPerFile = RecordsPerFile,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        ReadTimeout = TimeSpan.FromSeconds(2),
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        MaxRetries = 0,
    };
}
