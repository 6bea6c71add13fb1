using System.Globalization;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Keras <c>ModelCheckpoint</c> (weights only): saves the model after each epoch, or only when the monitored
/// quantity improves. <c>{epoch}</c> in the path is replaced by the epoch number. Each file is written to a
/// temporary name and renamed, so a checkpoint on disk is always whole. It writes TorchSharp <c>.pt</c> files; for
/// another format pass <c>save: ModelFiles.SaveWeights</c> (<c>CifarBatchNorm.Interop</c>).
/// </summary>
public sealed class ModelCheckpoint : Callback
{
    private readonly Monitor _monitor;
    private readonly Action<Sequential, string> _save;
    private double _best;

    /// <summary>Creates the callback.</summary>
    /// <param name="filePath">Where to save; may contain <c>{epoch}</c>.</param>
    /// <param name="monitor">Quantity compared when <paramref name="saveBestOnly"/>. The default value is <c>val_loss</c>.</param>
    /// <param name="saveBestOnly">Save only when the quantity improves. The default value is <c>false</c>.</param>
    /// <param name="mode">Direction of improvement. The default value is <see cref="MonitorMode.Auto"/>.</param>
    /// <param name="save">
    /// Writes the model to a path. The default value writes TorchSharp's <c>.pt</c> format through a temporary file, and
    /// then <paramref name="filePath"/> must end in <c>.pt</c>.
    /// </param>
    /// <exception cref="ArgumentException">No <paramref name="save"/> is given and the path does not end in <c>.pt</c>.</exception>
    public ModelCheckpoint(string filePath, string monitor = "val_loss", bool saveBestOnly = false, MonitorMode mode = MonitorMode.Auto,
        Action<Sequential, string>? save = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filePath);
        if (save is null && !filePath.EndsWith(".pt", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"ModelCheckpoint writes TorchSharp .pt files, and {filePath} does not end in .pt: rename it, or pass save: ModelFiles.SaveWeights for the format its extension names.",
                nameof(filePath));
        }

        _save = save ?? TorchSharpWeightsFile.Save;
        FilePath = filePath;
        SaveBestOnly = saveBestOnly;
        _monitor = new Monitor(monitor, mode, 0);
    }

    /// <summary>The path pattern.</summary>
    public string FilePath { get; }

    /// <summary>Whether only improvements are saved.</summary>
    public bool SaveBestOnly { get; }

    /// <summary>The epoch last saved, or 0.</summary>
    public int LastSavedEpoch { get; private set; }

    /// <inheritdoc />
    public override void OnTrainBegin() => _best = _monitor.Worst;

    /// <inheritdoc />
    public override void SaveState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Values["best"] = _best;
        state.Values["last_saved_epoch"] = LastSavedEpoch;
    }

    /// <inheritdoc />
    public override void LoadState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _best = state.Get("best");
        LastSavedEpoch = (int)state.Get("last_saved_epoch");
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (Model is null)
        {
            return;
        }

        if (SaveBestOnly)
        {
            double current = _monitor.Read(logs, nameof(ModelCheckpoint));
            if (!_monitor.IsImprovement(current, _best))
            {
                return;
            }

            _best = current;
        }

        _save(Model, FilePath.Replace("{epoch}", epoch.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        LastSavedEpoch = epoch;
    }
}
