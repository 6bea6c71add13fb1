using static TorchSharp.torch;

namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Keras <c>TensorBoard</c> over TorchSharp's <c>SummaryWriter</c>: writes <c>epoch_loss</c>,
/// <c>epoch_accuracy</c>, <c>epoch_val_loss</c>, <c>epoch_val_accuracy</c> and <c>epoch_learning_rate</c> per
/// epoch, and <c>batch_loss</c> / <c>batch_accuracy</c> every <c>updateFrequency</c> steps. The writer appends each
/// value to the event file as it is added, so nothing is lost when training stops.
/// </summary>
public sealed class TensorBoard : Callback
{
    private readonly string _logDir;
    private readonly int _updateFrequency;
    private TorchSharp.Modules.SummaryWriter? _writer;
    private int _globalStep;

    /// <summary>Creates the callback.</summary>
    /// <param name="logDir">Folder for the event files.</param>
    /// <param name="updateFrequency">Write step metrics every N steps; 0 writes per epoch only. The default value is 1.</param>
    public TensorBoard(string logDir, int updateFrequency = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDir);
        ArgumentOutOfRangeException.ThrowIfNegative(updateFrequency);
        _logDir = logDir;
        _updateFrequency = updateFrequency;
    }

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        Directory.CreateDirectory(_logDir);
        _writer ??= utils.tensorboard.SummaryWriter(_logDir);
    }

    /// <inheritdoc />
    public override void OnTrainBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        _globalStep++;
        if (_writer is null || _updateFrequency == 0 || _globalStep % _updateFrequency != 0)
        {
            return;
        }

        foreach (var (key, value) in logs)
        {
            _writer.add_scalar($"batch_{key}", (float)value, _globalStep);
        }
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (_writer is null)
        {
            return;
        }

        foreach (var (key, value) in logs)
        {
            if (key is not ("seconds" or "train_seconds"))
            {
                _writer.add_scalar($"epoch_{key}", (float)value, epoch);
            }
        }
    }
}
