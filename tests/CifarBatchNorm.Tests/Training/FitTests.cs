using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

public sealed class FitTests
{
    private static readonly SyntheticOptions Small = new() { Shape = new ImageShape(16, 16, 3), TrainCount = 2_000, TestCount = 500 };

    private static (History History, Sequential Model) Train(int seed, int epochs = 3, TextWriter? output = null, int verbose = 0)
    {
        var (train, test) = SyntheticImages.Generate(Small);
        manual_seed(seed);
        var model = ModelPresets.Notebook(train.Shape, bnMomentum: 0.9);
        model.Compile(new Adam());
        var history = model.Fit(train, batchSize: 64, epochs: epochs, verbose: verbose, validationData: test, output: output);
        return (history, model);
    }

    [Fact]
    public void The_notebook_model_learns_the_synthetic_set_within_a_few_epochs()
    {
        var (history, model) = Train(seed: 1);
        using (model)
        {
            Assert.Equal([1, 2, 3], history.Epochs);
            Assert.True(history.ValAccuracy[^1] >= 0.9, $"validation accuracy {history.ValAccuracy[^1]}");
            Assert.True(history.Loss[^1] < history.Loss[0]);
            Assert.Equal(3, history.ValLoss.Count);
        }
    }

    [Fact]
    public void The_same_seed_gives_identical_history_and_weights()
    {
        var (a, modelA) = Train(seed: 4, epochs: 2);
        var (b, modelB) = Train(seed: 4, epochs: 2);
        var (c, modelC) = Train(seed: 5, epochs: 2);
        using (modelA)
        using (modelB)
        using (modelC)
        {
            Assert.Equal(a.Loss, b.Loss);
            Assert.Equal(a.ValAccuracy, b.ValAccuracy);
            Assert.NotEqual(a.Loss, c.Loss);
            var left = modelA.state_dict();
            var right = modelB.state_dict();
            Assert.All(left, kv => Assert.True(kv.Value.eq(right[kv.Key]).all().item<bool>(), kv.Key));
        }
    }

    [Fact]
    public void Evaluate_predict_and_saved_weights_agree()
    {
        using var temp = new TempDirectory();
        var (_, test) = SyntheticImages.Generate(Small);
        var (_, model) = Train(seed: 2, epochs: 1);
        using (model)
        using (var scope = NewDisposeScope())
        {
            var result = model.Evaluate(test);
            var probabilities = model.Predict(test);
            var labels = tensor(test.Labels.ToArray().Select(l => (long)l).ToArray());

            Assert.Equal([500L, 10], probabilities.shape);
            Assert.True(probabilities.sum(1).allclose(ones(500), atol: 1e-5));
            Assert.Equal(result.Accuracy, probabilities.argmax(1).eq(labels).to(ScalarType.Float64).mean().item<double>(), 10);
            Assert.Equal(500, result.Samples);

            string path = temp.Combine("weights.pt");
            model.SaveWeights(path);
            using var copy = ModelPresets.Notebook(test.Shape);
            copy.LoadWeights(path);
            Assert.True(copy.Predict(test).eq(probabilities).all().item<bool>());
            using var other = ModelPresets.Notebook(new ImageShape(28, 28, 1));
            var error = Assert.Throws<ModelFileException>(() => other.LoadWeights(path));
            Assert.StartsWith($"{path} does not hold weights for this model", error.Message);
        }
    }

    [Fact]
    public void Fit_accepts_tensors_with_one_hot_labels_like_to_categorical()
    {
        using var scope = NewDisposeScope();
        var (train, _) = SyntheticImages.Generate(Small with { TrainCount = 256, TestCount = 10 });
        var (x, y) = train.GetRange(0, 256);
        var oneHot = nn.functional.one_hot(y, 10).to(ScalarType.Float32);
        manual_seed(3);
        using var model = ModelPresets.Notebook(train.Shape);
        model.Compile(new Adam());

        var history = model.Fit(x, oneHot, batchSize: 32, epochs: 2, verbose: 0, validationData: (x, oneHot));
        var result = model.Evaluate(x, y);

        Assert.Equal(2, history.Accuracy.Count);
        Assert.Equal(history.ValAccuracy[^1], result.Accuracy, 10);
        Assert.Throws<ArgumentException>(() => model.Fit(zeros(4, 1, 28, 28), y[..4], verbose: 0));
    }

    [Fact]
    public void Misuse_gets_clear_errors()
    {
        var (train, _) = SyntheticImages.Generate(Small with { TrainCount = 64, TestCount = 10 });
        using var uncompiled = ModelPresets.Notebook(train.Shape);
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);

        Assert.Contains("call Compile(optimizer) before Fit", Assert.Throws<InvalidOperationException>(() => uncompiled.Fit(train, verbose: 0)).Message);
        model.Compile(new Adam());
        Assert.Contains("Synthetic train has images of 16x16x3 but the model expects input (None, 32, 32, 3)",
            Assert.Throws<ArgumentException>(() => model.Fit(train, verbose: 0)).Message);
    }

    [Fact]
    public void Verbose_2_writes_one_keras_line_per_epoch()
    {
        using var output = new StringWriter();
        var (_, model) = Train(seed: 6, epochs: 2, output: output, verbose: 2);
        model.Dispose();

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^Epoch 1/2 - 32/32 ━{20} \d+s \d+ms/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}\s*$", lines[0]);
        Assert.StartsWith("Epoch 2/2 - ", lines[1]);
    }
}
