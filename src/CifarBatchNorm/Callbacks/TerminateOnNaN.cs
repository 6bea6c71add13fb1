namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Keras <c>TerminateOnNaN</c>: stops training quietly (no exception) when the loss becomes NaN or infinite.
/// Without it, fit throws <c>TrainingDivergedException</c> naming the epoch and step.
/// </summary>
public sealed class TerminateOnNaN : Callback
{
    /// <summary>The (epoch, step) at which training was stopped, or <c>null</c>.</summary>
    public (int Epoch, int Step)? StoppedAt { get; private set; }

    private int _epoch;

    /// <inheritdoc />
    public override void OnTrainBegin() => StoppedAt = null;

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch) => _epoch = epoch;

    /// <inheritdoc />
    public override void OnTrainBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        if (Model is not null && logs.TryGetValue("loss", out double loss) && !double.IsFinite(loss))
        {
            StoppedAt = (_epoch, step);
            Model.StopTraining = true;
        }
    }
}
