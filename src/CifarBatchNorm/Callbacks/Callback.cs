using CifarBatchNorm.Training;

namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Base of the Keras-style callbacks. Every hook is a no-op; override the ones you need. Epoch numbers are
/// 1-based, as printed. Logs hold <c>loss</c>, <c>accuracy</c> and, at epoch end with validation data,
/// <c>val_loss</c> and <c>val_accuracy</c>, plus <c>learning_rate</c>.
/// </summary>
public abstract class Callback
{
    /// <summary>The model being trained; set by fit before <see cref="OnTrainBegin"/>.</summary>
    public Sequential? Model { get; internal set; }

    /// <summary>The run's shape; set by fit before <see cref="OnTrainBegin"/>.</summary>
    public TrainingParams? Params { get; internal set; }

    /// <summary>
    /// Writes what the callback has learnt so far into <paramref name="state"/>, after its epoch-end work, so that a
    /// run resumed from a checkpoint continues as the uninterrupted run would. The default writes nothing (a
    /// stateless callback).
    /// </summary>
    public virtual void SaveState(CallbackState state)
    {
    }

    /// <summary>Takes back what <see cref="SaveState"/> wrote; called after <see cref="OnTrainBegin"/> of a resumed run.</summary>
    public virtual void LoadState(CallbackState state)
    {
    }

    /// <summary>Called once before the first epoch.</summary>
    public virtual void OnTrainBegin()
    {
    }

    /// <summary>Called once after the last epoch (also when training stops early).</summary>
    public virtual void OnTrainEnd(IReadOnlyDictionary<string, double> logs)
    {
    }

    /// <summary>Called at the start of each epoch.</summary>
    public virtual void OnEpochBegin(int epoch)
    {
    }

    /// <summary>Called at the end of each epoch, after validation.</summary>
    public virtual void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
    }

    /// <summary>Called before each training step (1-based within the epoch).</summary>
    public virtual void OnTrainBatchBegin(int step)
    {
    }

    /// <summary>Called after each training step with the running means of the epoch so far.</summary>
    public virtual void OnTrainBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
    }
}
