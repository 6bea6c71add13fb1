using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using TorchSharp;

namespace CifarBatchNorm.Tests.Training;

public sealed class DivergenceTests
{
    private static (Sequential Model, torch.Tensor X, torch.Tensor Y) PoisonedSetup()
    {
        torch.manual_seed(2);
        var model = new Sequential(new LayerShape(4, 4, 1));
        model.Add(new Flatten());
        model.Add(new Dense(3, activation: ActivationFunction.Softmax));
        model.Compile(new Adam());
        var x = torch.rand(64, 1, 4, 4);
        x[40, 0, 0, 0] = torch.tensor(float.NaN);            // the third batch of 16 carries a NaN
        var y = torch.randint(0, 3, 64, dtype: torch.ScalarType.Int64);
        return (model, x, y);
    }

    [Fact]
    public void A_nan_loss_stops_fit_with_the_epoch_and_step()
    {
        var (model, x, y) = PoisonedSetup();
        using (model)
        using (x)
        using (y)
        {
            var error = Assert.Throws<TrainingDivergedException>(() => model.Fit(x, y, batchSize: 16, epochs: 2, verbose: 0, shuffle: false));

            Assert.Equal((1, 3), (error.Epoch, error.Step));
            Assert.StartsWith("Training loss became NaN at epoch 1, step 3/4", error.Message);
        }
    }

    [Fact]
    // keras-team/keras keras/src/backend/tensorflow/trainer.py::TensorFlowTrainer.fit: a callback's stop_training ends the
    // batch loop after the current batch, and the epoch is still finished (validation, on_epoch_end, History).
    public void TerminateOnNaN_turns_the_error_into_a_quiet_stop()
    {
        var (model, x, y) = PoisonedSetup();
        using (model)
        using (x)
        using (y)
        {
            var terminate = new TerminateOnNaN();

            var history = model.Fit(x, y, batchSize: 16, epochs: 2, verbose: 0, shuffle: false, callbacks: [terminate]);

            Assert.Equal([1], history.Epochs);
            Assert.True(double.IsNaN(history.Loss[0]), $"loss {history.Loss[0]}");
            Assert.Equal((1, 3), terminate.StoppedAt);
        }
    }
}
