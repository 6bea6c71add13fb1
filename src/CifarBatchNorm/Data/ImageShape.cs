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
