using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Data;

/// <summary>
/// An in-memory image classification set: one flat uint8 buffer of pixels in (N, C, H, W) order and one
/// byte per label. Batches are converted to float32 scaled by 1/255 only when they are asked for, so the
/// whole CIFAR-10 training set costs 150 MB rather than one tensor per image.
/// </summary>
public sealed class ImageDataset
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    /// <summary>Creates a dataset over the given buffers (not copied).</summary>
    /// <param name="name">A name for messages and reports, e.g. <c>CIFAR-10 train</c>.</param>
    /// <param name="shape">Shape of one image.</param>
    /// <param name="pixels">Pixels, image after image, each in channel-major (C, H, W) order.</param>
    /// <param name="labels">One class index per image.</param>
    /// <param name="classNames">The class names; their count is the number of classes.</param>
    public ImageDataset(string name, ImageShape shape, byte[] pixels, byte[] labels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        shape.Validate();
        if (classNames.Count < 2 || classNames.Count > 256)
        {
            throw new ArgumentException($"A dataset needs 2 to 256 classes, got {classNames.Count}.", nameof(classNames));
        }

        if ((long)labels.Length * shape.Size != pixels.Length)
        {
            throw new ArgumentException(
                $"{name}: {pixels.Length} pixel bytes do not hold {labels.Length} images of {shape} ({(long)labels.Length * shape.Size} bytes).",
                nameof(pixels));
        }

        int bad = Array.FindIndex(labels, l => l >= classNames.Count);
        if (bad >= 0)
        {
            throw new ArgumentException($"{name}: label {labels[bad]} of image {bad} is not below the class count {classNames.Count}.", nameof(labels));
        }

        Name = name;
        Shape = shape;
        _pixels = pixels;
        _labels = labels;
        ClassNames = classNames;
    }

    /// <summary>Name used in messages and reports.</summary>
    public string Name { get; }

    /// <summary>Shape of one image.</summary>
    public ImageShape Shape { get; }

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of classes.</summary>
    public int NumClasses => ClassNames.Count;

    /// <summary>Number of images.</summary>
    public int Count => _labels.Length;

    /// <summary>All pixels, (N, C, H, W) uint8.</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    /// <summary>All labels.</summary>
    public ReadOnlySpan<byte> Labels => _labels;

    /// <summary>The first <paramref name="count"/> images (all when <paramref name="count"/> is at least <see cref="Count"/>).</summary>
    public ImageDataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (count >= Count)
        {
            return this;
        }

        return new ImageDataset(Name, Shape, _pixels[..(count * Shape.Size)], _labels[..count], ClassNames);
    }

    /// <summary>
    /// Builds one batch: images as float32 (B, C, H, W) scaled to [0, 1] by 1/255, labels as int64 (B).
    /// </summary>
    /// <param name="indices">Which images, in batch order.</param>
    /// <param name="device">Where the tensors go; CPU when <c>null</c>.</param>
    public (Tensor Images, Tensor Labels) GetBatch(ReadOnlySpan<int> indices, Device? device = null)
    {
        using var buffer = new BatchBuffer(Shape, Math.Max(1, indices.Length), device);
        return buffer.Fill(this, indices);
    }

    /// <summary>A batch of consecutive images, <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/>.</summary>
    public (Tensor Images, Tensor Labels) GetRange(int start, int count, Device? device = null)
    {
        if (start < 0 || count < 1 || start + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Range {start}..{start + count} is outside 0..{Count}.");
        }

        int[] indices = Enumerable.Range(start, count).ToArray();
        return GetBatch(indices, device);
    }

    /// <summary>Counts images per class.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[NumClasses];
        foreach (byte label in _labels)
        {
            counts[label]++;
        }

        return counts;
    }
}
