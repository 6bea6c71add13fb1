namespace CifarBatchNorm.Layers;

/// <summary>Keras's convolution and pooling padding modes.</summary>
public enum ConvPadding
{
    /// <summary>No padding: the output shrinks by kernel - 1 (Keras's default).</summary>
    Valid,

    /// <summary>Zero padding that keeps the spatial size (stride 1).</summary>
    Same,
}
