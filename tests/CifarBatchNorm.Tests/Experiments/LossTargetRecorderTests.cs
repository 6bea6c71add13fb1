using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>
/// Steps to the loss target read from a moving average of each step's own loss, across epoch boundaries; Keras's
/// running mean (which restarts each epoch) is only the input it recovers the step losses from.
/// </summary>
public sealed class LossTargetRecorderTests
{
    /// <summary>Feeds per-step losses as Keras's logs carry them: the running mean of the epoch so far.</summary>
    private static LossTargetRecorder Feed(double target, double halfLife, int stepsPerEpoch, int batch, params double[][] epochs)
    {
        var recorder = new LossTargetRecorder(target, halfLife) { Params = new TrainingParams(epochs.Length, stepsPerEpoch, batch, stepsPerEpoch * batch, 0) };
        recorder.OnTrainBegin();
        for (int e = 0; e < epochs.Length; e++)
        {
            recorder.OnEpochBegin(e + 1);
            double sum = 0;
            for (int s = 0; s < epochs[e].Length; s++)
            {
                sum += epochs[e][s] * batch;
                recorder.OnTrainBatchEnd(s + 1, new Dictionary<string, double> { ["loss"] = sum / ((s + 1) * batch) });
            }
        }

        return recorder;
    }

    [Fact]
    public void Crossing_is_read_from_the_moving_average_across_epochs_and_interpolated()
    {
        // Keras's running mean restarts at epoch 2: its first step reports 1.0 <= 1.2, the old measure's "step 4".
        var recorder = Feed(1.2, halfLife: 1, stepsPerEpoch: 3, batch: 2, [4, 2, 1], [1, 0.5, 0.5]);

        double[] losses = [4, 2, 1, 1, 0.5, 0.5];
        double Ema(int t) => Enumerable.Range(1, t).Sum(i => 0.5 * Math.Pow(0.5, t - i) * losses[i - 1]) / (1 - Math.Pow(0.5, t));
        Assert.True(Ema(4) > 1.2 && Ema(5) <= 1.2);
        Assert.Equal(4 + ((Ema(4) - 1.2) / (Ema(4) - Ema(5))), recorder.ReachedAt!.Value, 12);   // 4.31, not 4
        Assert.Null(recorder.DivergedAt);
        var curve = recorder.Curve;
        Assert.Equal([1, 2, 3, 4, 5, 6], curve.Steps);
        Assert.Equal(losses, curve.Loss.Select(l => Math.Round(l, 12)));   // each step's own loss, recovered from the running mean
        Assert.Equal(Ema(6), curve.Smoothed[^1], 12);
    }

    [Fact]
    public void A_run_that_diverges_at_its_first_step_is_censored_not_zero_steps()
    {
        var recorder = Feed(0.5, halfLife: 20, stepsPerEpoch: 4, batch: 8, [double.NaN]);

        Assert.Null(recorder.ReachedAt);
        Assert.Equal(1, recorder.DivergedAt);
    }

    [Fact]
    public void A_run_that_never_reaches_the_target_has_no_step_count()
    {
        var recorder = Feed(0.1, halfLife: 2, stepsPerEpoch: 2, batch: 4, [2, 1.5], [1.2, 1.1]);

        Assert.Null(recorder.ReachedAt);
        Assert.Null(recorder.DivergedAt);
        Assert.Equal(4, recorder.Curve.Steps.Count);
    }
}
