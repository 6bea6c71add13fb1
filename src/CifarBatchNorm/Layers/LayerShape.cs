namespace CifarBatchNorm.Layers;

/// <summary>
/// The shape of one sample as Keras reports it, without the batch dimension: (height, width, channels) for
/// images and (units) for vectors. Tensors themselves are (N, C, H, W) in TorchSharp's layout.
/// </summary>
public sealed record LayerShape
{
    private readonly int[] _dims;

    /// <summary>Creates a shape from its dimensions in Keras order.</summary>
    public LayerShape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length == 0 || dims.Any(d => d < 1))
        {
            throw new ArgumentException($"A shape needs positive dimensions, got ({string.Join(", ", dims)}).", nameof(dims));
        }

        _dims = (int[])dims.Clone();
    }

    /// <summary>Dimensions in Keras order.</summary>
    public IReadOnlyList<int> Dims => _dims;

    /// <summary>Number of dimensions (3 for images, 1 for vectors).</summary>
    public int Rank => _dims.Length;

    /// <summary>Number of values in one sample.</summary>
    public long Size => _dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>Channels of an image shape, units of a vector shape.</summary>
    public int Features => _dims[^1];

    /// <summary>The shape of a tensor holding a batch, TorchSharp layout: (N, C, H, W) or (N, units).</summary>
    public long[] TorchShape(long batch) =>
        Rank == 3 ? [batch, _dims[2], _dims[0], _dims[1]] : [batch, .. _dims.Select(d => (long)d)];

    /// <summary>Keras's rendering with the batch dimension: <c>(None, 32, 32, 8)</c>.</summary>
    public override string ToString() => $"(None, {string.Join(", ", _dims)})";

    /// <inheritdoc />
    public bool Equals(LayerShape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    /// <inheritdoc />
    public override int GetHashCode() => _dims.Aggregate(17, (h, d) => (h * 31) + d);
}
