namespace CifarBatchNorm.Data;

/// <summary>Settings of the synthetic image set. The defaults match CIFAR-10's shape and sizes.</summary>
public sealed record SyntheticOptions
{
    /// <summary>Image shape. The default value is 32x32x3.</summary>
    public ImageShape Shape { get; init; } = ImageShape.Cifar10;

    /// <summary>Number of classes. The default value is 10.</summary>
    public int Classes { get; init; } = 10;

    /// <summary>Training images. The default value is 50,000.</summary>
    public int TrainCount { get; init; } = 50_000;

    /// <summary>Test images. The default value is 10,000.</summary>
    public int TestCount { get; init; } = 10_000;

    /// <summary>Seed of the class patterns and of every image. The default value is 0.</summary>
    public int Seed { get; init; }

    /// <summary>Amplitude of the per-pixel noise, 0-255. The default value is 64.</summary>
    public int Noise { get; init; } = 64;

    /// <summary>Throws when a setting is out of range.</summary>
    public SyntheticOptions Validate()
    {
        Shape.Validate();
        if (Classes is < 2 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "Classes must be 2 to 256.");
        }

        if (TrainCount < 1 || TestCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TrainCount), $"TrainCount and TestCount must be at least 1, got {TrainCount} and {TestCount}.");
        }

        if (Noise is < 0 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(Noise), Noise, "Noise must be 0 to 255.");
        }

        return this;
    }
}
