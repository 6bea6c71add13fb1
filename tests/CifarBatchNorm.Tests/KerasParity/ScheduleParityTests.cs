using CifarBatchNorm.Training;
using TorchSharp;
using static TorchSharp.torch;
using Adam = CifarBatchNorm.Training.Adam;
using Parameter = TorchSharp.Modules.Parameter;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>keras-team/keras keras/src/optimizers/schedules/learning_rate_schedule_test.py, ported.</summary>
public sealed class ScheduleParityTests
{
    // ::ExponentialDecayTest.test_continuous
    [Fact]
    public void Exponential_decay_continuous() =>
        Assert.Equal(0.05 * Math.Pow(0.96, 5.0 / 10.0), new ExponentialDecay(0.05, 10, 0.96).At(5), 6);

    // ::ExponentialDecayTest.test_staircase
    [Fact]
    public void Exponential_decay_staircase()
    {
        var schedule = new ExponentialDecay(0.1, 3, 0.96, staircase: true);
        Assert.Equal(0.1, schedule.At(1), 6);
        Assert.Equal(0.1, schedule.At(2), 6);
        Assert.Equal(0.1 * Math.Pow(0.96, 100 / 3), schedule.At(100), 6);
    }

    private static double NumpyCosineDecay(double step, double decaySteps, double alpha = 0)
    {
        step = Math.Min(step, decaySteps);
        double decay = 0.5 * (1.0 + Math.Cos(Math.PI * step / decaySteps));
        return ((1.0 - alpha) * decay) + alpha;
    }

    // ::CosineDecayTest.test_decay and ::test_alpha
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void Cosine_decay(double alpha)
    {
        for (int step = 0; step < 1500; step += 250)
        {
            Assert.Equal(NumpyCosineDecay(step, 1000, alpha), new CosineDecay(1.0, 1000, alpha).At(step), 6);
        }
    }

    // ::CosineDecayTest.test_warmup
    [Fact]
    public void Cosine_decay_warmup()
    {
        for (int step = 0; step < 1500; step += 250)
        {
            var schedule = new CosineDecay(0.0, 10, warmupTarget: 10.0, warmupSteps: 1500);
            Assert.Equal(step / 1500.0 * 10.0, schedule.At(step), 6);
        }
    }

    // ::CosineDecayTest.test_warmup_decay
    [Fact]
    public void Cosine_decay_after_warmup()
    {
        for (int step = 0; step < 3000; step += 250)
        {
            var schedule = new CosineDecay(0.0, 1000, warmupTarget: 10.0, warmupSteps: 2000);
            double expected = step < 2001 ? step / 2000.0 * 10.0 : 10.0 * NumpyCosineDecay(step - 2000, 1000);
            Assert.Equal(expected, schedule.At(step), 5);
        }
    }

    [Fact]
    public void The_optimizer_reads_the_schedule_at_its_iteration_count()
    {
        // keras-team/keras keras/src/optimizers/base_optimizer.py::BaseOptimizer.learning_rate: schedule(iterations).
        using var scope = NewDisposeScope();
        var w = new Parameter(tensor(new[] { 0f }));
        var optimizer = new Sgd(learningRate: 1.0);
        var scheduled = new Adam(new ExponentialDecay(0.05, 1, 0.9));
        scheduled.Bind([w]);
        Assert.Equal(0.05, scheduled.LearningRate, 12);
        w.grad = tensor(new[] { 1f });
        scheduled.Step();
        Assert.Equal(0.05 * 0.9, scheduled.LearningRate, 12);
        Assert.Throws<InvalidOperationException>(() => scheduled.LearningRate = 0.1);
        Assert.Equal(1.0, optimizer.LearningRate);
    }
}
