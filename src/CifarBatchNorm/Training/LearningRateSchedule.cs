namespace CifarBatchNorm.Training;

/// <summary>A learning rate that depends on the optimizer's iteration count (Keras <c>LearningRateSchedule</c>).</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate at <paramref name="step"/> (the optimizer's iterations before the update).</summary>
    public abstract double At(long step);
}
