namespace CifarBatchNorm.Training;

/// <summary>The training loss became NaN or infinite. The message names the epoch and step.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message, int epoch, int step) : base(message)
    {
        Epoch = epoch;
        Step = step;
    }

    /// <summary>The 1-based epoch in which the loss diverged.</summary>
    public int Epoch { get; }

    /// <summary>The 1-based step in that epoch.</summary>
    public int Step { get; }
}
