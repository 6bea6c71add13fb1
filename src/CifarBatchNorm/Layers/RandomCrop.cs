using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Keras 3 <c>RandomCrop</c>, with torchvision's <c>padding</c>: in training, crops a random (height, width) window,
/// the same window for every image of a batch (as Keras); at inference, resizes the largest centred window with the
/// target aspect ratio to (height, width), which is the identity when the input already has that size.
/// </summary>
/// <remarks>
/// <para>
/// Training: the input is first zero-padded by <see cref="Padding"/> pixels on every side (not in Keras, whose
/// users pad in the data pipeline; torchvision's <c>RandomCrop(size, padding)</c>), so the usual CIFAR augmentation
/// (pad 4, crop 32x32) runs inside the model. When the padded input is at least (height, width), the window starts at
/// h = int(u1 * (H - height + 1)) and w = int(u2 * (W - width + 1)) with u1, u2 ~ U[0, 1) drawn in that order;
/// otherwise the layer does what it does at inference.
/// </para>
/// <para>
/// Inference: Keras 3's documented behaviour ("the input will be resized and cropped so as to return the largest
/// possible window in the image that matches the target aspect ratio"; Keras 3.0 to 3.3 implement it with
/// <c>smart_resize</c>): a centred window of int(W * height / width) by int(H * width / height), clipped to the
/// input, resized bilinearly (half-pixel centres, no antialiasing) to (height, width). Padding is not applied.
/// Keras 3.8 and later return the input unchanged at inference, which disagrees with the layer's own output shape
/// whenever the input is not (height, width); this port keeps the documented behaviour so the model's later layers
/// always get the shape they were built for.
/// </para>
/// <para>Random draws come from torch's default generator unless the layer has its own <c>seed</c>. The layer has no weights.</para>
/// </remarks>
public sealed class RandomCrop : Layer
{
    private readonly AugmentationRandom _random;

    /// <summary>Creates the layer.</summary>
    /// <param name="height">Output height, at least 1.</param>
    /// <param name="width">Output width, at least 1.</param>
    /// <param name="padding">Zeros added on every side before the random crop, in training only. The default value is 0 (Keras's behaviour).</param>
    /// <param name="seed">Seed of the layer's own generator; <c>null</c> (the default) draws from torch's default generator.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>random_crop</c>, ...</param>
    public RandomCrop(int height, int width, int padding = 0, int? seed = null, string? name = null) : base(name)
    {
        if (height < 1 || width < 1)
        {
            throw new ArgumentOutOfRangeException(height < 1 ? nameof(height) : nameof(width), height < 1 ? height : width,
                $"RandomCrop needs a positive output size, got {height}x{width}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        Height = height;
        Width = width;
        Padding = padding;
        _random = new AugmentationRandom(seed);
    }

    /// <summary>Output height.</summary>
    public int Height { get; }

    /// <summary>Output width.</summary>
    public int Width { get; }

    /// <summary>Zeros added on every side before the random crop, in training only.</summary>
    public int Padding { get; }

    /// <summary>The layer's own seed; <c>null</c> when it draws from torch's default generator.</summary>
    public int? Seed => _random.Seed;

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape) =>
        new(Height, Width, AugmentationShapes.RequireImage(this, inputShape).Features);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        CheckRank(input, 4);                                                // (B, C, H, W)
        if (!training)
        {
            return CentreResize(input);
        }

        using var scope = NewDisposeScope();
        var padded = Padding > 0 ? nn.functional.pad(input, [Padding, Padding, Padding, Padding]) : input;
        long height = padded.shape[2], width = padded.shape[3];
        using var draws = _random.Uniform(2);
        if (height < Height || width < Width)
        {
            return CentreResize(padded).MoveToOuterDisposeScope();
        }

        var u = draws.data<float>();
        long top = Start(u[0], height - Height), left = Start(u[1], width - Width);
        return padded[.., .., TensorIndex.Slice(top, top + Height), TensorIndex.Slice(left, left + Width)]
            .to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>int(u * (room + 1)) as Keras computes it, kept inside [0, room].</summary>
    private static long Start(float u, long room) => Math.Min((long)(u * (float)(room + 1)), room);

    /// <summary>Keras's <c>smart_resize</c>: the largest centred window with the target aspect ratio, resized to the target.</summary>
    private Tensor CentreResize(Tensor input)
    {
        long height = input.shape[2], width = input.shape[3];
        if (height == Height && width == Width)
        {
            return input.to(ScalarType.Float32).alias();
        }

        long cropHeight = Math.Max(Math.Min(height, (long)((double)width * Height / Width)), 1);
        long cropWidth = Math.Max(Math.Min(width, (long)((double)height * Width / Height)), 1);
        long top = (long)((height - cropHeight) / 2.0), left = (long)((width - cropWidth) / 2.0);
        using var scope = NewDisposeScope();
        var window = input[.., .., TensorIndex.Slice(top, top + cropHeight), TensorIndex.Slice(left, left + cropWidth)].to(ScalarType.Float32);
        return nn.functional.interpolate(window, [Height, Width], mode: InterpolationMode.Bilinear, align_corners: false)
            .MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _random.Dispose();
        }

        base.Dispose(disposing);
    }
}
