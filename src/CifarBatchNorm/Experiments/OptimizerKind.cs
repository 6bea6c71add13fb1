namespace CifarBatchNorm.Experiments;

/// <summary>Which optimizer a run trains with (Keras 3 semantics: <see cref="Training.Adam"/>, <see cref="Training.AdamW"/>, <see cref="Training.Sgd"/>).</summary>
public enum OptimizerKind
{
    /// <summary>Adam, the notebook's.</summary>
    Adam,

    /// <summary>AdamW: Adam with decoupled weight decay (Keras's default decay 0.004).</summary>
    AdamW,

    /// <summary>SGD, with optional momentum and Nesterov momentum (Keras's update rule).</summary>
    Sgd,
}

/// <summary>How the learning rate changes during a run.</summary>
public enum LearningRateScheduleKind
{
    /// <summary>The learning rate stays as set (callbacks such as ReduceLROnPlateau may still change it). The notebook's.</summary>
    Constant,

    /// <summary>Keras <c>CosineDecay</c> from the learning rate to 0 over all the run's steps.</summary>
    Cosine,

    /// <summary>Keras <c>ExponentialDecay</c>: multiplied by 0.9 per epoch, continuously (not in steps).</summary>
    Exponential,
}
