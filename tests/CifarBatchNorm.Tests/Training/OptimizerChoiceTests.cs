using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;
using TorchSharp;
using Adam = CifarBatchNorm.Training.Adam;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

/// <summary>
/// The optimizer and schedule a <see cref="TrainConfig"/> names (what <c>--optimizer</c>, <c>--lr-schedule</c>,
/// <c>--weight-decay</c>, <c>--momentum</c> and <c>--nesterov</c> set), and TorchSharp optimizers in <c>Compile</c>.
/// </summary>
public sealed class OptimizerChoiceTests
{
    [Fact]
    public void The_notebook_config_gives_adam_at_a_constant_learning_rate()
    {
        var optimizer = OptimizerFactory.Create(TrainConfig.Notebook, stepsPerEpoch: 196);

        Assert.IsType<Adam>(optimizer);
        Assert.Null(optimizer.Schedule);
        Assert.Null(optimizer.WeightDecay);
        Assert.Equal(1e-3, optimizer.LearningRate);
        Assert.Equal("adam, learning rate 0.001", OptimizerFactory.Describe(TrainConfig.Notebook));
    }

    [Fact]
    public void AdamW_takes_keras_default_decay_unless_one_is_given()
    {
        var plain = OptimizerFactory.Create(TrainConfig.Notebook with { Optimizer = OptimizerKind.AdamW }, 10);
        var given = OptimizerFactory.Create(TrainConfig.Notebook with { Optimizer = OptimizerKind.AdamW, WeightDecay = 0.01 }, 10);

        Assert.Equal(("adamw", 0.004), (plain.KerasName, plain.WeightDecay!.Value));
        Assert.Equal(0.01, given.WeightDecay);
        Assert.IsType<AdamW>(given);
    }

    [Fact]
    public void Sgd_gets_momentum_nesterov_and_weight_decay()
    {
        var config = TrainConfig.Notebook with { Optimizer = OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9, Nesterov = true, WeightDecay = 1e-4 };

        var sgd = Assert.IsType<Sgd>(OptimizerFactory.Create(config, 10));

        Assert.Equal((0.9, true, 1e-4, 0.1), (sgd.Momentum, sgd.Nesterov, sgd.WeightDecay!.Value, sgd.LearningRate));
        Assert.Equal("sgd, learning rate 0.1, Nesterov momentum 0.9, weight decay 0.0001", OptimizerFactory.Describe(config));
    }

    [Fact]
    public void Cosine_decays_to_zero_over_the_run_and_exponential_by_a_tenth_per_epoch()
    {
        var cosine = OptimizerFactory.Create(TrainConfig.Notebook with { Epochs = 4, LearningRateSchedule = LearningRateScheduleKind.Cosine }, stepsPerEpoch: 50);
        var exponential = OptimizerFactory.Create(TrainConfig.Notebook with { LearningRateSchedule = LearningRateScheduleKind.Exponential }, stepsPerEpoch: 50);

        Assert.Equal(1e-3, cosine.Schedule!.At(0), 12);
        Assert.Equal(0.5e-3, cosine.Schedule.At(100), 12);               // half-way: (1 + cos(pi/2)) / 2
        Assert.Equal(0, cosine.Schedule.At(200), 12);
        Assert.Equal(0.9e-3, exponential.Schedule!.At(50), 12);
        Assert.Equal(0.81e-3, exponential.Schedule.At(100), 12);
    }

    [Fact]
    public void A_comparison_grid_overrides_the_learning_rate_and_keeps_the_schedule()
    {
        var optimizer = OptimizerFactory.Create(TrainConfig.Notebook with { LearningRateSchedule = LearningRateScheduleKind.Cosine, Epochs = 1 }, 10, learningRate: 0.03);

        Assert.Equal(0.03, optimizer.Schedule!.At(0), 12);
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, 0.9, false, LearningRateScheduleKind.Constant, null, "TrainConfig.Optimizer", "TrainConfig.Momentum and TrainConfig.Nesterov apply to the sgd optimizer only; this run uses adam.")]
    [InlineData(OptimizerKind.AdamW, 0.0, true, LearningRateScheduleKind.Constant, null, "TrainConfig.Optimizer", "apply to the sgd optimizer only; this run uses adamw")]
    [InlineData(OptimizerKind.Sgd, 1.5, false, LearningRateScheduleKind.Constant, null, "TrainConfig.Momentum", "is out of range")]
    [InlineData(OptimizerKind.Adam, 0.0, false, LearningRateScheduleKind.Cosine, 2, "TrainConfig.ReduceLrPatience", "needs a constant learning rate, not TrainConfig.LearningRateSchedule cosine")]
    public void Settings_that_cannot_go_together_are_refused_naming_the_setting(
        OptimizerKind kind, double momentum, bool nesterov, LearningRateScheduleKind schedule, int? reducePatience, string property, string message)
    {
        var config = TrainConfig.Notebook with { Optimizer = kind, Momentum = momentum, Nesterov = nesterov, LearningRateSchedule = schedule, ReduceLrPatience = reducePatience };

        var e = Assert.ThrowsAny<ArgumentException>(() => config.Validate());

        Assert.Equal(property, e.ParamName);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_weight_decay_is_refused()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => (TrainConfig.Notebook with { WeightDecay = -1 }).Validate());

        Assert.Equal("TrainConfig.WeightDecay", e.ParamName);
    }

    [Fact]
    public void A_torchsharp_optimizer_steps_with_pytorch_rules_and_follows_keras_learning_rate_changes()
    {
        using var scope = NewDisposeScope();
        var w = new Parameter(tensor(new[] { 1.0f, -2.0f }));
        var sgd = optim.SGD([w], learningRate: 0.5);
        var wrapped = new TorchOptimizer(sgd);
        wrapped.Bind([w]);

        w.grad = tensor(new[] { 0.2f, -0.4f });
        wrapped.Step();
        Assert.Equal([0.9f, -1.8f], w.data<float>().ToArray());          // w - 0.5 g

        wrapped.LearningRate = 0.05;                                      // what ReduceLROnPlateau does
        w.grad = tensor(new[] { 1.0f, 1.0f });
        wrapped.Step();
        Assert.Equal(0.85f, w.data<float>()[0], 6);
        Assert.Equal(-1.85f, w.data<float>()[1], 6);
        Assert.Equal(0.05, sgd.ParamGroups.Single().LearningRate, 12);
        Assert.Equal((2L, "torch"), (wrapped.Iterations, wrapped.KerasName));
    }

    [Fact]
    public void Compile_accepts_a_torchsharp_optimizer_fits_and_its_state_round_trips()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var (data, _) = SyntheticImages.Generate(new SyntheticOptions { Shape = new ImageShape(8, 8, 1), Classes = 3, TrainCount = 128, TestCount = 16 });
        using var model = ModelPresets.Notebook(new ImageShape(8, 8, 1), classes: 3);
        model.Compile(optim.Adam(model.parameters(), lr: 0.01));

        var history = model.Fit(data, batchSize: 32, epochs: 3, verbose: 0);

        Assert.True(history.Values["loss"][^1] < history.Values["loss"][0], "loss falls with torch.optim.Adam");
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            model.Optimizer!.SaveState(writer);
        }

        using var other = ModelPresets.Notebook(new ImageShape(8, 8, 1), classes: 3);
        other.Compile(optim.Adam(other.parameters(), lr: 0.01));
        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        other.Optimizer!.LoadState(reader);
        Assert.Equal(model.Optimizer.Iterations, other.Optimizer.Iterations);
    }

    [Fact]
    public void A_torchsharp_optimizer_over_another_model_is_refused()
    {
        using var scope = NewDisposeScope();
        using var model = ModelPresets.Notebook(new ImageShape(8, 8, 1), classes: 3);
        using var other = ModelPresets.Notebook(new ImageShape(8, 8, 1), classes: 3);

        var e = Assert.Throws<ArgumentException>(() => model.Compile(optim.SGD(other.parameters(), 0.1)));

        Assert.Contains("updates none of this model's parameters", e.Message, StringComparison.Ordinal);
    }
}
