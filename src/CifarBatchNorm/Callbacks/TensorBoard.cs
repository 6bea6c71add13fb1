namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Keras <c>TensorBoard</c>: event files in two runs, <c>logDir/train</c> and <c>logDir/validation</c>, so that the
/// training and validation curves of one metric overlay on one chart. Per epoch, <c>epoch_loss</c> and
/// <c>epoch_accuracy</c> go to both runs (<c>val_loss</c> is written as <c>epoch_loss</c> of <c>validation</c>) and
/// <c>epoch_learning_rate</c> to <c>train</c>, at step = the epoch index from 0, as Keras writes them; every
/// <c>updateFrequency</c> steps, <c>batch_loss</c> and <c>batch_accuracy</c> go to <c>train</c> at the global step.
/// Wall times are fractional Unix seconds. Each value is flushed to its file as it is added, so nothing is lost
/// when training stops.
/// </summary>
public sealed class TensorBoard : Callback, IDisposable
{
    /// <summary>The run folder of the training metrics, under the log folder.</summary>
    public const string TrainRun = "train";

    /// <summary>The run folder of the validation metrics, under the log folder.</summary>
    public const string ValidationRun = "validation";

    private const string ValidationPrefix = "val_";
    private static readonly HashSet<string> Timings = ["seconds", "train_seconds"];
    private readonly string _logDir;
    private readonly int _updateFrequency;
    private EventFileWriter? _train;
    private EventFileWriter? _validation;
    private long _globalStep;

    /// <summary>Creates the callback.</summary>
    /// <param name="logDir">Folder for the event files (the <c>train</c> and <c>validation</c> runs are made under it).</param>
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
        _train ??= new EventFileWriter(Path.Combine(_logDir, TrainRun));
    }

    /// <inheritdoc />
    public override void OnTrainBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        _globalStep++;
        if (_train is null || _updateFrequency == 0 || _globalStep % _updateFrequency != 0)
        {
            return;
        }

        foreach (var (key, value) in logs)
        {
            _train.AddScalar($"batch_{key}", (float)value, _globalStep);
        }
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (_train is null)
        {
            return;
        }

        long step = epoch - 1;   // Keras's epoch index
        foreach (var (key, value) in logs.Where(kv => !Timings.Contains(kv.Key)))
        {
            if (key.StartsWith(ValidationPrefix, StringComparison.Ordinal))
            {
                _validation ??= new EventFileWriter(Path.Combine(_logDir, ValidationRun));
                _validation.AddScalar($"epoch_{key[ValidationPrefix.Length..]}", (float)value, step);
            }
            else
            {
                _train.AddScalar($"epoch_{key}", (float)value, step);
            }
        }
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IReadOnlyDictionary<string, double> logs) => Dispose();

    /// <summary>Closes the event files.</summary>
    public void Dispose()
    {
        _train?.Dispose();
        _validation?.Dispose();
        _train = null;
        _validation = null;
    }
}
