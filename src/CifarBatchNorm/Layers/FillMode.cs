namespace CifarBatchNorm.Layers;

/// <summary>How <see cref="RandomTranslation"/> fills points outside the input (Keras's <c>fill_mode</c> strings).</summary>
public enum FillMode
{
    /// <summary>Reflect about the edge of the last pixel: <c>(d c b a | a b c d | d c b a)</c>. Keras 3's default.</summary>
    Reflect,

    /// <summary>A constant value: <c>(k k k k | a b c d | k k k k)</c>.</summary>
    Constant,

    /// <summary>The nearest pixel: <c>(a a a a | a b c d | d d d d)</c>.</summary>
    Nearest,

    /// <summary>Wrap around to the opposite edge: <c>(a b c d | a b c d | a b c d)</c>.</summary>
    Wrap,
}
