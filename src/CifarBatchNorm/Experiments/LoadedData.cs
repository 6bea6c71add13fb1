using CifarBatchNorm.Data;

namespace CifarBatchNorm.Experiments;

/// <summary>The data a run uses, and why it was chosen.</summary>
/// <param name="Kind">The dataset actually used (never <see cref="DatasetKind.Auto"/>).</param>
/// <param name="Train">Training set (after <see cref="TrainConfig.TrainLimit"/>).</param>
/// <param name="Test">Test set, used for validation and the final evaluation (after <see cref="TrainConfig.TestLimit"/>).</param>
/// <param name="Location">Folder the files came from; <c>null</c> for the synthetic set.</param>
/// <param name="Reason">One line saying which dataset and why, printed as the run's banner.</param>
public sealed record LoadedData(DatasetKind Kind, ImageDataset Train, ImageDataset Test, string? Location, string Reason);
