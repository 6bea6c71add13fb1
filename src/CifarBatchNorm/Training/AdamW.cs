namespace CifarBatchNorm.Training;

/// <summary>Keras 3 <c>AdamW</c> (Loshchilov and Hutter 2019): <see cref="Adam"/> with decoupled weight decay, 0.004 by default.</summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size. The default value is 1e-3.</param>
    /// <param name="weightDecay">Decoupled weight decay, non-negative. The default value is 0.004 (Keras's).</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1). The default value is 0.9.</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1). The default value is 0.999.</param>
    /// <param name="epsilon">Added to sqrt(v), positive. The default value is 1e-7.</param>
    /// <param name="amsgrad">Use the AMSGrad variant. The default value is <c>false</c>.</param>
    public AdamW(double learningRate = 1e-3, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false)
        : base(learningRate, beta1, beta2, epsilon, amsgrad, new OptimizerOptions { WeightDecay = weightDecay })
    {
    }

    /// <summary>Creates the optimizer with a learning-rate schedule.</summary>
    /// <param name="schedule">The learning rate per iteration.</param>
    /// <param name="weightDecay">Decoupled weight decay, non-negative. The default value is 0.004 (Keras's).</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1). The default value is 0.9.</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1). The default value is 0.999.</param>
    /// <param name="epsilon">Added to sqrt(v), positive. The default value is 1e-7.</param>
    /// <param name="amsgrad">Use the AMSGrad variant. The default value is <c>false</c>.</param>
    public AdamW(LearningRateSchedule schedule, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false)
        : base(schedule, beta1, beta2, epsilon, amsgrad, new OptimizerOptions { WeightDecay = weightDecay })
    {
    }

    /// <inheritdoc />
    public override string KerasName => "adamw";
}
