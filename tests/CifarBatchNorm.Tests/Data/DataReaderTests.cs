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

    [Fact]
    public void The_real_fashion_mnist_files_have_the_published_counts()
    {
        Assert.True(FashionMnist.IsPresent(FashionMnist.DebianDirectory), "dataset-fashion-mnist is not installed; .ci/run installs it");

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
        var pixels = Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)i).ToArray();
        foreach (string prefix in new[] { "train", "t10k" })
        {
            Write($"{prefix}-images-idx3-ubyte", Header(0x803, 3, 4, 5), pixels);
            Write($"{prefix}-labels-idx1-ubyte", Header(0x801, 3), [2, 0, 9]);
        }

        var (train, _) = FashionMnist.Load(temp.Path);

        Assert.Equal(new ImageShape(4, 5, 1), train.Shape);
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
}
