namespace CifarBatchNorm.Experiments;

/// <summary>The training-time augmentations a run can put at the model's start (<see cref="TrainConfig.Augment"/>).</summary>
public enum Augmentation
{
    /// <summary>Left-right flips: <c>RandomFlip(FlipMode.Horizontal)</c>.</summary>
    Flip,

    /// <summary>Shifts of up to 10% of the height and width, reflected at the edges: <c>RandomTranslation(0.1, 0.1)</c>.</summary>
    Translate,

    /// <summary>Random crops of the image size from the image padded by 4 zeros: <c>RandomCrop(height, width, padding: 4)</c>.</summary>
    Crop,
}
