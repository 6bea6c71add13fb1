namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Keras <c>EarlyStopping</c>: stops training when <see cref="MonitorName"/> has not improved by more than
/// <c>minDelta</c> for <c>patience</c> epochs, optionally restoring the weights of the best epoch.
/// </summary>
public sealed class EarlyStopping : Callback, IDisposable
{
    private readonly Monitor _monitor;
    private readonly int _patience;
    private readonly double? _baseline;
    private readonly bool _restoreBestWeights;
    private readonly int _startFromEpoch;
    private WeightsSnapshot? _best;
    private double _bestValue;
    private int _wait;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">Logged quantity to watch. The default value is <c>val_loss</c>.</param>
    /// <param name="minDelta">Smallest change that counts as an improvement, at least 0. The default value is 0.</param>
    /// <param name="patience">Epochs without improvement before stopping, at least 0. The default value is 0.</param>
    /// <param name="mode">Direction of improvement. The default value is <see cref="MonitorMode.Auto"/>.</param>
    /// <param name="baseline">Value the quantity must beat; <c>null</c> (the default) for none.</param>
    /// <param name="restoreBestWeights">Restore the best epoch's weights when stopping. The default value is <c>false</c>.</param>
    /// <param name="startFromEpoch">Epochs to wait before watching (warm-up). The default value is 0.</param>
    public EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, MonitorMode mode = MonitorMode.Auto,
        double? baseline = null, bool restoreBestWeights = false, int startFromEpoch = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(startFromEpoch);
        _monitor = new Monitor(monitor, mode, minDelta);
        _patience = patience;
        _baseline = baseline;
        _restoreBestWeights = restoreBestWeights;
        _startFromEpoch = startFromEpoch;
    }

    /// <summary>The watched quantity.</summary>
    public string MonitorName => _monitor.Name;

    /// <summary>The epoch training stopped at, or 0.</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The epoch with the best value so far, or 0.</summary>
    public int BestEpoch { get; private set; }

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        _wait = 0;
        StoppedEpoch = 0;
        BestEpoch = 0;
        _bestValue = _monitor.Worst;
        _best?.Dispose();
        _best = null;
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (epoch <= _startFromEpoch)
        {
            return;
        }

        double current = _monitor.Read(logs, nameof(EarlyStopping));
        _wait++;
        if (_monitor.IsImprovement(current, _bestValue))
        {
            _bestValue = current;
            BestEpoch = epoch;
            if (_restoreBestWeights && Model is not null)
            {
                _best?.Dispose();
                _best = WeightsSnapshot.Capture(Model);
            }

            if (_baseline is null || _monitor.IsImprovement(current, _baseline.Value))
            {
                _wait = 0;
                return;
            }
        }

        if (_wait >= _patience && Model is not null)
        {
            StoppedEpoch = epoch;
            Model.StopTraining = true;
        }
    }

    /// <inheritdoc />
    public override void SaveState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Values["wait"] = _wait;
        state.Values["best"] = _bestValue;
        state.Values["best_epoch"] = BestEpoch;
        state.Values["stopped_epoch"] = StoppedEpoch;
        foreach (var (name, tensor) in _best?.Values ?? new Dictionary<string, TorchSharp.torch.Tensor>())
        {
            state.Tensors[$"best_weights/{name}"] = tensor.clone().DetachFromDisposeScope();
        }
    }

    /// <inheritdoc />
    public override void LoadState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _wait = (int)state.Get("wait");
        _bestValue = state.Get("best");
        BestEpoch = (int)state.Get("best_epoch");
        StoppedEpoch = (int)state.Get("stopped_epoch");
        var weights = state.Tensors.Where(kv => kv.Key.StartsWith("best_weights/", StringComparison.Ordinal))
            .Select(kv => KeyValuePair.Create(kv.Key["best_weights/".Length..], kv.Value)).ToList();
        _best?.Dispose();
        _best = weights.Count > 0 ? WeightsSnapshot.From(weights) : null;
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IReadOnlyDictionary<string, double> logs)
    {
        if (StoppedEpoch > 0 && _restoreBestWeights && _best is not null && Model is not null)
        {
            _best.Restore(Model);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _best?.Dispose();
}
