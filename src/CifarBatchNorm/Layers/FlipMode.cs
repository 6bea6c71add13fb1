namespace CifarBatchNorm.Layers;

/// <summary>Which axes <see cref="RandomFlip"/> flips (Keras's <c>mode</c> strings).</summary>
public enum FlipMode
{
    /// <summary>Left-right flips (Keras <c>"horizontal"</c>).</summary>
    Horizontal,

    /// <summary>Top-bottom flips (Keras <c>"vertical"</c>).</summary>
    Vertical,

    /// <summary>Both, decided by one draw per image (Keras <c>"horizontal_and_vertical"</c>, its default).</summary>
    HorizontalAndVertical,
}
