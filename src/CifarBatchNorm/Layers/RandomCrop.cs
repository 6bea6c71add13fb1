using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Keras 3 <c>RandomCrop</c>, with torchvision's <c>padding</c>: in training, crops a random (height, width) window,
/// the same window for every image of a batch (as Keras); at inference, returns the input unchanged (Keras 3.8 and
/// later, keras/src/layers/preprocessing/image_preprocessing/random_crop.py <c>transform_images</c>).
/// </summary>
/// <remarks>
/// <para>
/// Training: the input is first zero-padded by <see cref="Padding"/> pixels on every side (not in Keras, whose
/// users pad in the data pipeline; torchvision's <c>RandomCrop(size, padding)</c>), so the usual CIFAR augmentation
/// (pad 4, crop 32x32) runs inside the model. When the padded input is larger than (height, width) on both sides, the
/// window starts at h = int(u1 * (H - height + 1)) and w = int(u2 * (W - width + 1)) with u1, u2 ~ U[0, 1) drawn in
/// that order. Otherwise (one side equal to the target or smaller) Keras's <c>get_random_transformation</c> takes no
/// draw: it centres the largest window with the target aspect ratio, int(W * height / width) by
/// int(H * width / height) clipped to the input, slices a (height, width) window from that start (cut short where the
/// input ends), and resizes it bilinearly (half-pixel centres, no antialiasing) to (height, width) when it is smaller.
/// </para>
/// <para>
/// Inference: the input as it is, as in Keras. A model whose crop changes the image size therefore gets a larger
/// image than its later layers were built for at inference, in Keras as here; crop such images in the data pipeline.
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
            return input.to(ScalarType.Float32).alias();
        }

        using var scope = NewDisposeScope();
        var padded = Padding > 0 ? nn.functional.pad(input, [Padding, Padding, Padding, Padding]) : input;
        long height = padded.shape[2], width = padded.shape[3];
        long top, left;
        if (height > Height && width > Width)
        {
            using var draws = _random.Uniform(2);
            var u = draws.data<float>();
            (top, left) = (Start(u[0], height - Height), Start(u[1], width - Width));
        }
        else
        {
            long cropHeight = Math.Max(Math.Min(height, (long)((double)width * Height / Width)), 1);
            long cropWidth = Math.Max(Math.Min(width, (long)((double)height * Width / Height)), 1);
            (top, left) = ((long)((height - cropHeight) / 2.0), (long)((width - cropWidth) / 2.0));
        }

        var window = padded[.., .., TensorIndex.Slice(top, Math.Min(top + Height, height)), TensorIndex.Slice(left, Math.Min(left + Width, width))]
            .to(ScalarType.Float32);
        if (window.shape[2] != Height || window.shape[3] != Width)
        {
            window = nn.functional.interpolate(window, [Height, Width], mode: InterpolationMode.Bilinear, align_corners: false);
        }

        return window.MoveToOuterDisposeScope();
    }

    /// <summary>int(u * (room + 1)) as Keras computes it, kept inside [0, room].</summary>
    private static long Start(float u, long room) => Math.Min((long)(u * (float)(room + 1)), room);

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
