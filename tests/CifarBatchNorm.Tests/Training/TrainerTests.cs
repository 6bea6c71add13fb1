using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

public sealed class TrainerTests
{
    private static readonly SyntheticOptions Small = new() { Shape = new ImageShape(16, 16, 3), TrainCount = 640, TestCount = 128, Seed = 3 };

    /// <summary>A trainer whose step clips the global gradient norm before the optimizer step and counts its calls.</summary>
    private sealed class ClippingTrainer(Sequential model, Optimizer optimizer, double maxNorm) : Trainer(model, optimizer)
    {
        public int TrainSteps { get; private set; }

        public int TestSteps { get; private set; }

        public List<double> NormsBeforeClipping { get; } = [];

        protected override StepMetrics TrainStep(Tensor images, Tensor labels)
        {
            TrainSteps++;
            Optimizer.ZeroGrad();
            var logits = Model.ForwardLogits(images);
            var loss = ComputeLoss(logits, labels);
            loss.backward();
            var parameters = Model.parameters().Where(p => p.requires_grad).ToArray();
            NormsBeforeClipping.Add(nn.utils.clip_grad_norm_(parameters, maxNorm));
            double after = Math.Sqrt(parameters.Sum(p => p.grad!.pow(2).sum().item<float>()));
            Assert.True(after <= maxNorm * 1.0001, $"clipped norm {after} above {maxNorm}");
            Optimizer.Step();
            return ReadMetrics(loss, logits, labels);
        }

        protected override StepMetrics TestStep(Tensor images, Tensor labels)
        {
            TestSteps++;
            return base.TestStep(images, labels);
        }
    }

    [Fact]
    public void An_overridden_train_step_runs_for_every_batch_and_trains_the_model()
    {
        var (train, test) = SyntheticImages.Generate(Small);
        manual_seed(11);
        using var model = ModelPresets.Notebook(train.Shape, bnMomentum: 0.9);
        var trainer = new ClippingTrainer(model, new Adam(), maxNorm: 0.5);
        model.Trainer = trainer;

        var history = model.Fit(train, batchSize: 64, epochs: 3, verbose: 0, validationData: test);

        Assert.Equal(3 * 10, trainer.TrainSteps);                      // 640 / 64 batches, 3 epochs
        Assert.Equal(3, trainer.TestSteps);                             // one validation batch (128 <= 256) per epoch
        Assert.Contains(trainer.NormsBeforeClipping, n => n > 0.5);     // clipping acted
        Assert.True(history.Loss[^1] < history.Loss[0], $"loss {string.Join(", ", history.Loss)}");
        Assert.True(history.ValAccuracy[^1] > 0.25, $"validation accuracy {history.ValAccuracy[^1]} (chance: 0.1)");
    }

    [Fact]
    public void A_trainer_built_for_another_model_is_refused()
    {
        using var a = ModelPresets.Notebook(new ImageShape(8, 8, 1));
        using var b = ModelPresets.Notebook(new ImageShape(8, 8, 1));

        var error = Assert.Throws<ArgumentException>(() => a.Trainer = new Trainer(b, new Adam()));

        Assert.Contains("another model", error.Message, StringComparison.Ordinal);
    }

    private sealed class StopAtBatch(int step) : Callback
    {
        public int LastBatch { get; private set; }

        public override void OnTrainBatchEnd(int batch, IReadOnlyDictionary<string, double> logs)
        {
            LastBatch = batch;
            if (batch == step)
            {
                Model!.StopTraining = true;
            }
        }
    }

    [Fact]
    public void Stop_training_is_honoured_after_the_batch_that_asked_for_it()
    {
        // keras-team/keras keras/src/backend/tensorflow/trainer.py::TensorFlowTrainer.fit: `if self.stop_training: break`
        // after every on_train_batch_end; the epoch then ends as usual and no further epoch starts.
        var (train, test) = SyntheticImages.Generate(Small);
        manual_seed(2);
        using var model = ModelPresets.Notebook(train.Shape);
        model.Compile(new Adam());
        var stop = new StopAtBatch(3);

        var history = model.Fit(train, batchSize: 64, epochs: 4, verbose: 0, validationData: test, callbacks: [stop]);

        Assert.Equal(3, stop.LastBatch);
        Assert.Equal([1], history.Epochs);
        Assert.Single(history.ValAccuracy);
    }

    [Fact]
    public void Train_on_batch_is_one_optimizer_step_with_the_batch_metrics()
    {
        var (train, _) = SyntheticImages.Generate(Small);
        manual_seed(5);
        using var model = ModelPresets.Notebook(train.Shape);
        model.Compile(new Adam());
        var (images, labels) = train.GetRange(0, 32);
        using (images)
        using (labels)
        {
            var first = model.TrainOnBatch(images, labels);
            var second = model.TrainOnBatch(images, labels);

            Assert.Equal(2, model.Optimizer!.Iterations);
            Assert.InRange(first.Correct, 0, 32);
            Assert.True(second.Loss < first.Loss, $"loss {first.Loss} then {second.Loss} on the same batch");
        }
    }

    [Fact]
    public void Releasing_the_C_heap_during_training_changes_no_number()
    {
        var (train, test) = SyntheticImages.Generate(Small);
        Dictionary<string, List<double>> Run(bool release)
        {
            manual_seed(9);
            using var model = ModelPresets.Notebook(train.Shape);
            model.Apply(ExecutionPolicy.Cpu with { CollectEverySteps = 2, ReleaseNativeMemory = release });
            model.Compile(new CifarBatchNorm.Training.Adam());
            var history = model.Fit(train, batchSize: 64, epochs: 2, verbose: 0, validationData: test);
            return history.Values.Where(kv => kv.Key is not ("seconds" or "train_seconds")).ToDictionary(kv => kv.Key, kv => kv.Value);
        }

        var released = Run(release: true);
        var kept = Run(release: false);

        Assert.Equal(kept.Keys.Order(), released.Keys.Order());
        Assert.All(kept, kv => Assert.Equal(kv.Value, released[kv.Key]));
        Assert.EndsWith(", GC every 64 steps, C heap released with each GC and epoch", ExecutionPolicy.Cpu.ToString(), StringComparison.Ordinal);
    }
}
