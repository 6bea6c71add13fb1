using CifarBatchNorm.Callbacks;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Records the first optimizer step of a run at which the training loss Keras reports (the running mean over the
/// epoch so far) reaches a target: a measure of optimization speed that the lag of BN's moving statistics, which
/// only validation sees, does not affect.
/// </summary>
internal sealed class LossTargetRecorder(double target) : Callback
{
    private int _stepsBefore;
    private int _stepsPerEpoch;

    /// <summary>The first step (1-based, over the run) at or below the target, or <c>null</c>.</summary>
    public int? ReachedAt { get; private set; }

    public override void OnTrainBegin() => _stepsPerEpoch = Params?.Steps ?? 0;

    public override void OnEpochBegin(int epoch) => _stepsBefore = (epoch - 1) * _stepsPerEpoch;

    public override void OnTrainBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        if (ReachedAt is null && logs.TryGetValue("loss", out double loss) && loss <= target)
        {
            ReachedAt = _stepsBefore + step;
        }
    }

    public override void SaveState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Values["reached_at"] = ReachedAt ?? -1;
    }

    public override void LoadState(CallbackState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        int reached = (int)state.Get("reached_at");
        ReachedAt = reached < 0 ? null : reached;
    }
}
