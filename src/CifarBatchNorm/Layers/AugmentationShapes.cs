namespace CifarBatchNorm.Layers;

/// <summary>Input checks the augmentation layers share.</summary>
internal static class AugmentationShapes
{
    /// <summary>Returns <paramref name="inputShape"/> when it is an image (height, width, channels); throws otherwise.</summary>
    public static LayerShape RequireImage(Layer layer, LayerShape inputShape)
    {
        if (inputShape.Rank != 3)
        {
            throw new ArgumentException(
                $"{layer.KerasType} expects images (height, width, channels), got {inputShape}; put it before Flatten, at the model's start.",
                nameof(inputShape));
        }

        return inputShape;
    }
}
