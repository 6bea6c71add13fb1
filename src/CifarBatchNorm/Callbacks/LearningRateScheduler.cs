namespace CifarBatchNorm.Callbacks;

/// <summary>Keras <c>LearningRateScheduler</c>: sets the learning rate at the start of every epoch from a schedule.</summary>
/// <param name="schedule">Maps (1-based epoch, current learning rate) to the new learning rate (positive).</param>
public sealed class LearningRateScheduler(Func<int, double, double> schedule) : Callback
{
    private readonly Func<int, double, double> _schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch)
    {
        if (Model?.Optimizer is { } optimizer)
        {
            optimizer.LearningRate = _schedule(epoch, optimizer.LearningRate);
        }
    }
}
