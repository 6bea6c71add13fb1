using CifarBatchNorm.Data;

namespace CifarBatchNorm.Experiments;

/// <summary>The data a run uses, and why it was chosen.</summary>
/// <param name="Kind">The dataset actually used (never <see cref="DatasetKind.Auto"/>).</param>
/// <param name="Train">Training set (after <see cref="TrainConfig.TrainLimit"/>).</param>
/// <param name="Test">Test set, used for validation and the final evaluation (after <see cref="TrainConfig.TestLimit"/>).</param>
/// <param name="Location">Folder the files came from; <c>null</c> for the synthetic set.</param>
/// <param name="Reason">Which dataset and why, in full (what <c>config.json</c> records).</param>
public sealed record LoadedData(DatasetKind Kind, ImageDataset Train, ImageDataset Test, string? Location, string Reason)
{
    /// <summary>One short sentence saying which dataset is used, printed as the run's banner; the detail is in <see cref="Reason"/>.</summary>
    public string Banner { get; init; } = Reason;
}
