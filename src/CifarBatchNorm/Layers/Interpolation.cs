namespace CifarBatchNorm.Layers;

/// <summary>How <see cref="RandomTranslation"/> samples between pixels (Keras's <c>interpolation</c> strings).</summary>
public enum Interpolation
{
    /// <summary>Bilinear, Keras's default.</summary>
    Bilinear,

    /// <summary>The nearest pixel (coordinates rounded half to even, as <c>torch.round</c>).</summary>
    Nearest,
}
