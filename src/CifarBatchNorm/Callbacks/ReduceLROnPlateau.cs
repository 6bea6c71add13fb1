namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Keras <c>ReduceLROnPlateau</c>: multiplies the learning rate by <c>factor</c> when the monitored quantity has
/// not improved by more than <c>minDelta</c> for <c>patience</c> epochs, then waits <c>cooldown</c> epochs.
/// </summary>
public sealed class ReduceLROnPlateau : Callback
{
    private readonly Monitor _monitor;
    private readonly double _factor;
    private readonly int _patience;
    private readonly int _cooldown;
    private readonly double _minLearningRate;
    private double _best;
    private int _wait;
    private int _cooldownCounter;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">Quantity to watch. The default value is <c>val_loss</c>.</param>
    /// <param name="factor">Multiplier of the learning rate, in (0, 1). The default value is 0.1.</param>
    /// <param name="patience">Epochs without improvement before reducing. The default value is 10.</param>
    /// <param name="mode">Direction of improvement. The default value is <see cref="MonitorMode.Auto"/>.</param>
    /// <param name="minDelta">Smallest change that counts as an improvement. The default value is 1e-4.</param>
    /// <param name="cooldown">Epochs to wait after a reduction. The default value is 0.</param>
    /// <param name="minLearningRate">Lower bound of the learning rate. The default value is 0.</param>
    public ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, MonitorMode mode = MonitorMode.Auto,
        double minDelta = 1e-4, int cooldown = 0, double minLearningRate = 0)
    {
        if (!(factor > 0 && factor < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "factor must be in (0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        if (!(minLearningRate >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, "minLearningRate must be zero or positive.");
        }

        _monitor = new Monitor(monitor, mode, minDelta);
        _factor = factor;
        _patience = patience;
        _cooldown = cooldown;
        _minLearningRate = minLearningRate;
    }

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        _best = _monitor.Worst;
        _wait = 0;
        _cooldownCounter = 0;
    }

    /// <inheritdoc />
    public override void SaveState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Values["best"] = _best;
        state.Values["wait"] = _wait;
        state.Values["cooldown_counter"] = _cooldownCounter;
    }

    /// <inheritdoc />
    public override void LoadState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _best = state.Get("best");
        _wait = (int)state.Get("wait");
        _cooldownCounter = (int)state.Get("cooldown_counter");
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var optimizer = Model?.Optimizer;
        if (optimizer is null)
        {
            return;
        }

        double current = _monitor.Read(logs, nameof(ReduceLROnPlateau));
        if (_cooldownCounter > 0)
        {
            _cooldownCounter--;
            _wait = 0;
        }

        if (_monitor.IsImprovement(current, _best))
        {
            _best = current;
            _wait = 0;
        }
        else if (_cooldownCounter == 0 && ++_wait >= _patience)
        {
            double old = optimizer.LearningRate;
            if (old > _minLearningRate)
            {
                optimizer.LearningRate = Math.Max(old * _factor, _minLearningRate);
                _cooldownCounter = _cooldown;
                _wait = 0;
            }
        }
    }
}
