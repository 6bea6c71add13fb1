namespace CifarBatchNorm.Data;

/// <summary>The shape of one image in Keras order (height, width, channels).</summary>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="Channels">Colour channels (3 for CIFAR-10, 1 for Fashion-MNIST).</param>
public readonly record struct ImageShape(int Height, int Width, int Channels)
{
    /// <summary>CIFAR-10 images: 32x32x3.</summary>
    public static ImageShape Cifar10 => new(32, 32, 3);

    /// <summary>Fashion-MNIST images: 28x28x1.</summary>
    public static ImageShape FashionMnist => new(28, 28, 1);

    /// <summary>The longest side a model input may have (what <c>ModelPresets.MaxImageSide</c> and model files are bounded by).</summary>
    internal const int MaxModelSide = 512;

    /// <summary>The most channels a model input may have.</summary>
    internal const int MaxModelChannels = 4;

    /// <summary>Whether every dimension lies within 1 to <see cref="MaxModelSide"/> (sides) and 1 to <see cref="MaxModelChannels"/> (channels).</summary>
    internal bool IsWithinModelBounds => Height is >= 1 and <= MaxModelSide && Width is >= 1 and <= MaxModelSide && Channels is >= 1 and <= MaxModelChannels;

    /// <summary>Bytes of one image.</summary>
    public int Size => Height * Width * Channels;

    /// <summary>Throws when a dimension is not positive.</summary>
    public ImageShape Validate()
    {
        if (Height < 1 || Width < 1 || Channels < 1)
        {
            throw new ArgumentException($"Image shape must be positive in every dimension, got {this}.");
        }

        return this;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Height}x{Width}x{Channels}";
}
