using CifarBatchNorm.Callbacks;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Records the training loss of every optimizer step of a run and the step at which its exponential moving average
/// first reaches a target: a measure of optimization speed that the lag of BN's moving statistics, which only
/// validation sees, does not affect, and that does not restart at each epoch (Keras's reported loss is the running
/// mean of the epoch so far, one batch's loss at an epoch's first step).
/// </summary>
/// <remarks>
/// The step's own loss is recovered from Keras's running mean (sum so far minus sum before, over the batch's size).
/// The average is bias-corrected like Adam's moments, <c>m_t = beta m_(t-1) + (1 - beta) loss_t</c>,
/// <c>ema_t = m_t / (1 - beta^t)</c> with <c>beta = 2^(-1 / halfLife)</c>; the crossing is interpolated linearly
/// between the last step above the target and the first at or below it. A loss that becomes NaN or infinite marks
/// the run diverged at that step; a run that diverges before the crossing never reached the target.
/// </remarks>
internal sealed class LossTargetRecorder(double target, double halfLifeSteps) : Callback
{
    /// <summary>Points the kept curve has at most; the curve keeps the mean of each block of steps.</summary>
    public const int CurvePoints = 200;

    private readonly double _beta = Math.Pow(2, -1 / halfLifeSteps);
    private readonly List<int> _curveSteps = [];
    private readonly List<double> _curveLoss = [];
    private readonly List<double> _curveSmoothed = [];
    private int _stepsBefore;
    private int _stepsPerEpoch;
    private int _every = 1;
    private int _total;
    private int _step;
    private double _moment;
    private double _smoothed = double.NaN;
    private double _previousMean;
    private double _blockSum;
    private int _blockCount;

    /// <summary>The (interpolated, 1-based) step over the run at which the smoothed loss reached the target, or <c>null</c>.</summary>
    public double? ReachedAt { get; private set; }

    /// <summary>The step at which the loss became NaN or infinite, or <c>null</c>.</summary>
    public int? DivergedAt { get; private set; }

    /// <summary>The kept curve: per block of steps, its last step, the mean loss over the block and the smoothed loss at its end.</summary>
    public LossCurve Curve => new(halfLifeSteps, [.. _curveSteps], [.. _curveLoss], [.. _curveSmoothed]);

    public override void OnTrainBegin()
    {
        _stepsPerEpoch = Params?.Steps ?? 0;
        _total = Math.Max(1, (Params?.Epochs ?? 1) * _stepsPerEpoch);
        _every = Math.Max(1, (_total + CurvePoints - 1) / CurvePoints);
    }

    public override void OnEpochBegin(int epoch)
    {
        _stepsBefore = (epoch - 1) * _stepsPerEpoch;
        _previousMean = 0;
    }

    public override void OnTrainBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        if (DivergedAt is not null || !logs.TryGetValue("loss", out double mean))
        {
            return;
        }

        int batch = Params?.BatchSize ?? 1;
        int samples = Params?.Samples ?? int.MaxValue;
        double seen = Math.Min((long)step * batch, samples), seenBefore = Math.Min((long)(step - 1) * batch, samples);
        double loss = ((mean * seen) - (_previousMean * seenBefore)) / (seen - seenBefore);
        _previousMean = mean;
        _step = _stepsBefore + step;
        if (!double.IsFinite(loss))
        {
            DivergedAt = _step;
            return;
        }

        _moment = (_beta * _moment) + ((1 - _beta) * loss);
        double previous = _smoothed;
        _smoothed = _moment / (1 - Math.Pow(_beta, _step));
        if (ReachedAt is null && _smoothed <= target)
        {
            ReachedAt = double.IsNaN(previous) ? _step : _step - 1 + ((previous - target) / (previous - _smoothed));
        }

        _blockSum += loss;
        _blockCount++;
        if (_step % _every == 0 || _step == _total)
        {
            _curveSteps.Add(_step);
            _curveLoss.Add(_blockSum / _blockCount);
            _curveSmoothed.Add(_smoothed);
            _blockSum = 0;
            _blockCount = 0;
        }
    }

    public override void SaveState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Values["reached_at"] = ReachedAt ?? -1;
        state.Values["diverged_at"] = DivergedAt ?? -1;
        state.Values["moment"] = _moment;
        state.Values["smoothed"] = _smoothed;
        state.Values["block_sum"] = _blockSum;
        state.Values["block_count"] = _blockCount;
        state.Tensors["curve_steps"] = tensor(_curveSteps.Select(s => (double)s).ToArray(), ScalarType.Float64).DetachFromDisposeScope();
        state.Tensors["curve_loss"] = tensor(_curveLoss.ToArray(), ScalarType.Float64).DetachFromDisposeScope();
        state.Tensors["curve_smoothed"] = tensor(_curveSmoothed.ToArray(), ScalarType.Float64).DetachFromDisposeScope();
    }

    public override void LoadState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        double reached = state.Get("reached_at");
        ReachedAt = reached < 0 ? null : reached;
        int diverged = (int)state.Get("diverged_at");
        DivergedAt = diverged < 0 ? null : diverged;
        _moment = state.Get("moment");
        _smoothed = state.Get("smoothed");
        _blockSum = state.Get("block_sum");
        _blockCount = (int)state.Get("block_count");
        _curveSteps.Clear();
        _curveLoss.Clear();
        _curveSmoothed.Clear();
        _curveSteps.AddRange(state.Tensors["curve_steps"].data<double>().Select(s => (int)s));
        _curveLoss.AddRange(state.Tensors["curve_loss"].data<double>());
        _curveSmoothed.AddRange(state.Tensors["curve_smoothed"].data<double>());
    }
}
