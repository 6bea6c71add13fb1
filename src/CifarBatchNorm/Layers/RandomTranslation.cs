using System.Globalization;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Keras 3 <c>RandomTranslation</c>: in training, shifts each image by its own random fraction of its height and
/// width, filling the uncovered area by <see cref="FillMode"/>; at inference it is the identity.
/// </summary>
/// <remarks>
/// <para>
/// Per image, dy = U(heightLower, heightUpper) * height and dx = U(widthLower, widthUpper) * width (the height draw
/// first, as Keras), and output(y, x) = input(y - dy, x - dx): a positive factor shifts down or right. Fractional
/// shifts are sampled bilinearly (or at the nearest pixel); points outside the input are mapped back as
/// <see cref="FillMode"/> says, per axis, before interpolating, exactly as Keras's <c>map_coordinates</c> does (for
/// <see cref="FillMode.Constant"/> an outside corner contributes <c>fillValue</c>). Since a translation moves
/// every row by the same amount, the layer samples rows and columns separately, which gives the same values as
/// Keras's full affine sampling.
/// </para>
/// <para>
/// Random draws come from torch's default generator (seed it with <c>torch.manual_seed</c>) unless the layer has
/// its own <c>seed</c>. The layer has no weights.
/// </para>
/// </remarks>
public sealed class RandomTranslation : Layer
{
    private readonly AugmentationRandom _random;

    /// <summary>Creates the layer with symmetric ranges: shifts in [-|heightFactor|, |heightFactor|] of the height and likewise for the width.</summary>
    /// <param name="heightFactor">Largest vertical shift as a fraction of the height, in [-1, 1].</param>
    /// <param name="widthFactor">Largest horizontal shift as a fraction of the width, in [-1, 1].</param>
    /// <param name="fillMode">How points outside the input are filled. The default value is <see cref="FillMode.Reflect"/> (Keras 3's).</param>
    /// <param name="interpolation">How fractional shifts are sampled. The default value is <see cref="Interpolation.Bilinear"/>.</param>
    /// <param name="seed">Seed of the layer's own generator; <c>null</c> (the default) draws from torch's default generator.</param>
    /// <param name="fillValue">The value outside the input for <see cref="FillMode.Constant"/>. The default value is 0.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>random_translation</c>, ...</param>
    public RandomTranslation(double heightFactor, double widthFactor, FillMode fillMode = FillMode.Reflect,
        Interpolation interpolation = Interpolation.Bilinear, int? seed = null, double fillValue = 0, string? name = null)
        : this(Symmetric(heightFactor, nameof(heightFactor)), Symmetric(widthFactor, nameof(widthFactor)), fillMode, interpolation, seed, fillValue, name)
    {
    }

    /// <summary>Creates the layer with explicit ranges: vertical shifts in [lower, upper] of the height and horizontal ones in [lower, upper] of the width (Keras's tuple factors).</summary>
    /// <param name="heightRange">Bounds of the vertical shift as fractions of the height, each in [-1, 1]; negative shifts up.</param>
    /// <param name="widthRange">Bounds of the horizontal shift as fractions of the width, each in [-1, 1]; negative shifts left.</param>
    /// <param name="fillMode">How points outside the input are filled. The default value is <see cref="FillMode.Reflect"/> (Keras 3's).</param>
    /// <param name="interpolation">How fractional shifts are sampled. The default value is <see cref="Interpolation.Bilinear"/>.</param>
    /// <param name="seed">Seed of the layer's own generator; <c>null</c> (the default) draws from torch's default generator.</param>
    /// <param name="fillValue">The value outside the input for <see cref="FillMode.Constant"/>. The default value is 0.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>random_translation</c>, ...</param>
    public RandomTranslation((double Lower, double Upper) heightRange, (double Lower, double Upper) widthRange, FillMode fillMode = FillMode.Reflect,
        Interpolation interpolation = Interpolation.Bilinear, int? seed = null, double fillValue = 0, string? name = null)
        : base(name)
    {
        HeightRange = Sorted(heightRange, nameof(heightRange));
        WidthRange = Sorted(widthRange, nameof(widthRange));
        if (!Enum.IsDefined(fillMode))
        {
            throw new ArgumentOutOfRangeException(nameof(fillMode), fillMode, "RandomTranslation fillMode must be Reflect, Constant, Nearest or Wrap.");
        }

        if (!Enum.IsDefined(interpolation))
        {
            throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "RandomTranslation interpolation must be Bilinear or Nearest.");
        }

        if (!double.IsFinite(fillValue))
        {
            throw new ArgumentOutOfRangeException(nameof(fillValue), fillValue, "RandomTranslation fillValue must be a finite number.");
        }

        FillMode = fillMode;
        Interpolation = interpolation;
        FillValue = fillValue;
        _random = new AugmentationRandom(seed);
    }

    /// <summary>Bounds of the vertical shift, as fractions of the height.</summary>
    public (double Lower, double Upper) HeightRange { get; }

    /// <summary>Bounds of the horizontal shift, as fractions of the width.</summary>
    public (double Lower, double Upper) WidthRange { get; }

    /// <summary>How points outside the input are filled.</summary>
    public FillMode FillMode { get; }

    /// <summary>How fractional shifts are sampled.</summary>
    public Interpolation Interpolation { get; }

    /// <summary>The value outside the input for <see cref="FillMode.Constant"/>.</summary>
    public double FillValue { get; }

    /// <summary>The layer's own seed; <c>null</c> when it draws from torch's default generator.</summary>
    public int? Seed => _random.Seed;

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape) => AugmentationShapes.RequireImage(this, inputShape);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        CheckRank(input, 4);                                                // (B, C, H, W)
        if (!training)
        {
            return input.alias();
        }

        long batch = input.shape[0], height = input.shape[2], width = input.shape[3];
        using var scope = NewDisposeScope();
        var dy = Shift(_random.Uniform(batch), HeightRange, height);         // (B)
        var dx = Shift(_random.Uniform(batch), WidthRange, width);
        return Translate(input, dy.to(input.device), dx.to(input.device)).MoveToOuterDisposeScope();
    }

    /// <summary>Shifts each image of (B, C, H, W) <paramref name="input"/> by (<paramref name="dy"/>, <paramref name="dx"/>) pixels, both (B) float32.</summary>
    internal Tensor Translate(Tensor input, Tensor dy, Tensor dx)
    {
        long batch = input.shape[0], channels = input.shape[1], height = input.shape[2], width = input.shape[3];
        var rows = Taps(arange(height, ScalarType.Float32, input.device).unsqueeze(0) - dy.unsqueeze(1), height); // each (B, H)
        var cols = Taps(arange(width, ScalarType.Float32, input.device).unsqueeze(0) - dx.unsqueeze(1), width);   // each (B, W)
        var x = input.to(ScalarType.Float32);
        Tensor? output = null;
        foreach (var (rowIndex, rowWeight) in rows)
        {
            var picked = x.gather(2, rowIndex.view(batch, 1, height, 1).expand(batch, channels, height, width));
            foreach (var (colIndex, colWeight) in cols)
            {
                var sample = picked.gather(3, colIndex.view(batch, 1, 1, width).expand(batch, channels, height, width));
                var term = sample * (rowWeight.view(batch, 1, height, 1) * colWeight.view(batch, 1, 1, width));
                output = output is null ? term : output + term;
            }
        }

        if (FillMode == FillMode.Constant && FillValue != 0)
        {
            // Outside corners carry fillValue with their weight: fill * (1 - total inside weight).
            var inside = rows.Select(r => r.Weight).Aggregate((a, b) => a + b).view(batch, 1, height, 1)
                * cols.Select(c => c.Weight).Aggregate((a, b) => a + b).view(batch, 1, 1, width);
            output = output! + ((1 - inside) * FillValue);
        }

        return output!;
    }

    /// <summary>The pixels a coordinate reads and their weights (zero for an outside pixel under a constant fill).</summary>
    private List<(Tensor Index, Tensor Weight)> Taps(Tensor coordinate, long size)
    {
        var taps = new List<(Tensor Index, Tensor Weight)>();
        if (Interpolation == Interpolation.Nearest)
        {
            taps.Add((coordinate.round().to(ScalarType.Int64), ones_like(coordinate)));
        }
        else
        {
            var lower = coordinate.floor();
            var upperWeight = coordinate - lower;
            var index = lower.to(ScalarType.Int64);
            taps.Add((index, 1 - upperWeight));
            taps.Add((index + 1, upperWeight));
        }

        return taps.Select(t => (Fix(t.Index, size), FillMode == FillMode.Constant ? t.Weight * t.Index.ge(0).logical_and(t.Index.lt(size)) : t.Weight)).ToList();
    }

    /// <summary>Maps an index outside [0, size) back inside, as Keras's index fixers do.</summary>
    private Tensor Fix(Tensor index, long size) => FillMode switch
    {
        FillMode.Constant or FillMode.Nearest => index.clamp(0, size - 1),
        FillMode.Wrap => index.remainder(size),
        FillMode.Reflect => (Mirror((2 * index) + 1, (2 * size) + 1) - 1).div(2, RoundingMode.floor),
        _ => throw new InvalidOperationException($"Unknown fill mode {FillMode}."),
    };

    /// <summary>The triangular wave of Keras's "mirror" fixer: |(i + s) mod 2s - s| with s = size - 1.</summary>
    private static Tensor Mirror(Tensor index, long size)
    {
        long s = size - 1;
        return (index + s).remainder(2 * s).sub(s).abs();
    }

    private static Tensor Shift(Tensor uniform, (double Lower, double Upper) range, long size) =>
        ((uniform * (range.Upper - range.Lower)) + range.Lower) * size;

    private static (double, double) Symmetric(double factor, string name)
    {
        CheckFactor(factor, name);
        return (-Math.Abs(factor), Math.Abs(factor));
    }

    private static (double, double) Sorted((double Lower, double Upper) range, string name)
    {
        CheckFactor(range.Lower, name);
        CheckFactor(range.Upper, name);
        return range.Lower <= range.Upper ? range : (range.Upper, range.Lower);
    }

    private static void CheckFactor(double value, string name)
    {
        if (!(value is >= -1 and <= 1))
        {
            throw new ArgumentOutOfRangeException(name, value,
                $"RandomTranslation {name} {value.ToString(CultureInfo.InvariantCulture)} is out of range: each bound must be a fraction in [-1, 1].");
        }
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
