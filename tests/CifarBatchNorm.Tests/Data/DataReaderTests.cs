using CifarBatchNorm.Data;
using CifarBatchNorm.Tests.Support;
using TorchSharp;

namespace CifarBatchNorm.Tests.Data;

public sealed class DataReaderTests
{
    [Fact]
    public void Cifar10_records_are_read_channel_major_with_their_labels()
    {
        using var temp = new TempDirectory();
        string folder = temp.Combine(Cifar10.FolderName);
        Directory.CreateDirectory(folder);
        var records = new byte[Cifar10.RecordsPerFile * Cifar10.RecordSize];
        for (int r = 0; r < Cifar10.RecordsPerFile; r++)
        {
            int at = r * Cifar10.RecordSize;
            records[at] = (byte)((r * 7) % 10);
            records[at + 1] = 200;                 // red, row 0, column 0
            records[at + 1 + 1024] = 100;          // green, row 0, column 0
            records[at + 1 + 2048 + 33] = (byte)r; // blue, row 1, column 1
        }

        foreach (string file in Cifar10.TrainFiles.Append(Cifar10.TestFile))
        {
            File.WriteAllBytes(Path.Combine(folder, file), records);
        }

        var (train, test) = Cifar10.Load(temp.Path);

        Assert.Equal((50_000, 10_000), (train.Count, test.Count));
        Assert.Equal(ImageShape.Cifar10, train.Shape);
        Assert.Equal("airplane", train.ClassNames[0]);
        Assert.Equal("truck", train.ClassNames[9]);
        Assert.Equal((byte)((12_345 % 10_000 * 7) % 10), train.Labels[12_345]);
        Assert.Equal(Enumerable.Repeat(5_000, 10), train.ClassCounts());
        var image = test.Pixels.Slice(77 * 3072, 3072);
        Assert.Equal((200, 100, 77), (image[0], image[1024], image[2048 + 33]));
        Assert.Equal(folder, Cifar10.Locate(folder));
        Assert.Equal(folder, Cifar10.Locate(temp.Path));
        Assert.Null(Cifar10.Locate(temp.Combine("elsewhere")));
    }

    [SkippableFact]
    public void The_real_fashion_mnist_files_have_the_published_counts()
    {
        RequiredData.FashionMnist();

        var (train, test) = FashionMnist.Load();

        Assert.Equal((60_000, 10_000), (train.Count, test.Count));
        Assert.Equal(new ImageShape(28, 28, 1), train.Shape);
        Assert.Equal(Enumerable.Repeat(6_000, 10), train.ClassCounts());
        Assert.Equal(Enumerable.Repeat(1_000, 10), test.ClassCounts());
        Assert.Equal("Ankle boot", train.ClassNames[9]);
        Assert.Equal(9, train.Labels[0]);                    // the first training image is an ankle boot
    }

    [Fact]
    public void Raw_idx_files_load_like_gzip_ones()
    {
        using var temp = new TempDirectory();
        void Write(string name, byte[] header, byte[] body) => File.WriteAllBytes(temp.Combine(name), [.. header, .. body]);
        byte[] Header(int magic, params int[] dims) =>
            new[] { magic }.Concat(dims).SelectMany(v => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v }).ToArray();
        var pixels = Enumerable.Range(0, 3 * 28 * 28).Select(i => (byte)i).ToArray();
        foreach (string prefix in new[] { "train", "t10k" })
        {
            Write($"{prefix}-images-idx3-ubyte", Header(0x803, 3, 28, 28), pixels);
            Write($"{prefix}-labels-idx1-ubyte", Header(0x801, 3), [2, 0, 9]);
        }

        var (train, _) = FashionMnist.Load(temp.Path);

        Assert.Equal(new ImageShape(28, 28, 1), train.Shape);
        Assert.Equal([2, 0, 9], train.Labels.ToArray());
        Assert.Equal(pixels, train.Pixels.ToArray());
    }

    [Fact]
    public void Batches_are_float_scaled_by_1_over_255_in_nchw_order()
    {
        var data = new ImageDataset("tiny", new ImageShape(1, 2, 2), [0, 255, 51, 102, 255, 0, 0, 0], [1, 0], ["a", "b"]);
        using var scope = torch.NewDisposeScope();

        var (images, labels) = data.GetBatch([1, 0]);

        Assert.Equal([2L, 2, 1, 2], images.shape);
        Assert.Equal(torch.ScalarType.Float32, images.dtype);
        Assert.Equal(torch.ScalarType.Int64, labels.dtype);
        Assert.Equal([1f, 0f, 0f, 0f, 0f, 1f, 0.2f, 0.4f], images.data<float>().ToArray());
        Assert.Equal([0L, 1L], labels.data<long>().ToArray());
        Assert.Equal(1, data.Take(1).Count);
        Assert.Same(data, data.Take(5));
    }

    [Fact]
    public void Synthetic_images_are_cifar_shaped_seeded_and_balanced()
    {
        var (train, test) = SyntheticImages.Generate();
        var (again, _) = SyntheticImages.Generate();
        var (other, _) = SyntheticImages.Generate(new SyntheticOptions { Seed = 1, TrainCount = 100, TestCount = 10 });

        Assert.Equal((50_000, 10_000), (train.Count, test.Count));
        Assert.Equal(ImageShape.Cifar10, train.Shape);
        Assert.True(train.Pixels.SequenceEqual(again.Pixels));
        Assert.True(train.Labels.SequenceEqual(again.Labels));
        Assert.False(train.Pixels[..(100 * 3072)].SequenceEqual(other.Pixels));
        Assert.All(train.ClassCounts(), c => Assert.InRange(c, 4_500, 5_500));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticImages.Generate(new SyntheticOptions { Classes = 1 }));
    }

    [Fact]
    public void Hostile_idx_files_are_refused_before_they_can_hang_or_exhaust_memory()
    {
        using var temp = new TempDirectory();
        byte[] Header(int magic, params int[] dims) =>
            new[] { magic }.Concat(dims).SelectMany(v => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v }).ToArray();

        // A header announcing 4 images of 2048x2048 (16 MB of pixels a reader would allocate).
        string big = temp.Combine("big-idx3-ubyte");
        File.WriteAllBytes(big, [.. Header(0x803, 4, 2048, 2048), 0, 0, 0]);
        var header = Assert.Throws<DataFormatException>(() => FashionMnist.ReadImages(big));
        Assert.Contains("header says 4 images of 2048x2048; Fashion-MNIST has up to 1,000,000 images of 28x28", header.Message, StringComparison.Ordinal);

        // A gzip bomb: 200 MB of zeros behind a valid header of 2 images: only what the header announces is read.
        string bomb = temp.Combine("bomb-idx3-ubyte.gz");
        using (var gz = new System.IO.Compression.GZipStream(File.Create(bomb), System.IO.Compression.CompressionLevel.Fastest))
        {
            gz.Write(Header(0x803, 2, 28, 28));
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 200; i++)
            {
                gz.Write(zeros);
            }
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        var longer = Assert.Throws<DataFormatException>(() => FashionMnist.ReadImages(bomb));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 50_000_000, "the reader inflated far more than the header announced");
        Assert.Contains("expected 1,584 for 2 images of 28x28", longer.Message, StringComparison.Ordinal);

        // A FIFO and a link to /dev/zero are refused before they are opened.
        if (OperatingSystem.IsLinux())
        {
            string fifo = temp.Combine("fifo-idx3-ubyte");
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
            {
                mkfifo.WaitForExit();
            }

            Assert.Contains("is a FIFO (named pipe), not a data file", Assert.Throws<DataFormatException>(() => FashionMnist.ReadImages(fifo)).Message, StringComparison.Ordinal);
            string zero = temp.Combine("zero-idx3-ubyte.gz");
            File.CreateSymbolicLink(zero, "/dev/zero");
            Assert.Contains("is a character device, not a data file", Assert.Throws<DataFormatException>(() => FashionMnist.ReadImages(zero)).Message, StringComparison.Ordinal);
        }

        // A 3 GB raw file (sparse: no disk used) is refused by its size, naming the file.
        string huge = temp.Combine("huge-idx3-ubyte");
        using (var stream = File.Create(huge))
        {
            stream.SetLength(3L << 30);
        }

        Assert.StartsWith($"{huge}: 3,221,225,472 bytes, more than", Assert.Throws<DataFormatException>(() => FashionMnist.ReadImages(huge)).Message, StringComparison.Ordinal);
    }
}
