using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>
/// Eight places where Keras 3's own tests or source disagreed with the library (issue 23), each following the Keras
/// test or source line it names (keras-team/keras; line numbers at the tag given).
/// </summary>
public sealed class KerasBehaviourParityTests
{
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static RandomCrop TrainingCrop(int height, int width, int inputHeight, int inputWidth, int? seed = null)
    {
        var layer = new RandomCrop(height, width, seed: seed);
        layer.Build(new LayerShape(inputHeight, inputWidth, 1));
        layer.train();
        return layer;
    }

    [Fact]
    public void A_frozen_batch_renormalization_runs_in_inference_mode_in_training()
    {
        // keras/src/layers/normalization/batch_normalization.py (v3.14.0) line 363, call: `if training and
        // self.trainable:` wraps the renorm branch too, so a frozen layer normalizes with the moving statistics and
        // leaves them alone.
        using var scope = NewDisposeScope();
        using var layer = new BatchRenormalization(renormMomentum: 0.5);
        layer.Build(new LayerShape(3));
        using (no_grad())
        {
            layer.MovingMean.copy_(tensor(new[] { 0.3f, -1.2f, 0.7f }));
            layer.MovingVariance.copy_(tensor(new[] { 1.4f, 0.6f, 0.9f }));
            layer.Gamma.copy_(tensor(new[] { 1.5f, 0.5f, 2f }));
            layer.Beta.copy_(tensor(new[] { 0.1f, -0.2f, 0.3f }));
        }

        layer.Trainable = false;
        layer.train();
        var x = randn(16, 3, generator: new Generator(3)) * 2 + 1;
        var before = layer.MovingMean.clone();

        var y = layer.call(x);

        var expected = (x - layer.MovingMean) / (layer.MovingVariance + layer.Epsilon).sqrt() * layer.Gamma + layer.Beta;
        Assert.True(y.allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.True(Same(layer.MovingMean, before));
        Assert.Equal(0, layer.Steps);
    }

    [Fact]
    public void Random_crop_at_inference_returns_the_input_unchanged()
    {
        // keras/src/layers/preprocessing/image_preprocessing/random_crop_test.py::RandomCropTest::test_random_crop_full
        // (inference returns the input) and random_crop.py transform_images, which crops only `if training:`
        // (Keras 3.8 and later): so even an 8x16 input to an 8x8 crop comes back as it is.
        using var scope = NewDisposeScope();
        var input = rand(12, 1, 8, 16, generator: new Generator(1337));
        using var layer = TrainingCrop(8, 8, 8, 16);
        layer.eval();

        Assert.True(Same(layer.call(input), input));
    }

    [Fact]
    public void Random_crop_in_training_takes_the_centred_window_when_one_side_equals_the_target()
    {
        // random_crop.py get_random_transformation (v3.15.1): a random start only `if training and input_height >
        // self.height and input_width > self.width`; else the start of the centred window of the target aspect
        // ratio: 8x16 to 8x8 starts at column int((16 - 8) / 2) = 4, whatever the seed.
        using var scope = NewDisposeScope();
        var input = arange(8 * 16, ScalarType.Float32).view(1, 1, 8, 16);
        foreach (int seed in new[] { 1, 2, 3 })
        {
            using var layer = TrainingCrop(8, 8, 8, 16, seed);
            Assert.True(Same(layer.call(input), input[.., .., .., TensorIndex.Slice(4, 12)]), $"seed {seed}");
        }
    }

    [Fact]
    public void Random_crop_in_training_slices_a_target_size_window_before_resizing_a_smaller_input()
    {
        // random_crop_test.py::test_predicting_with_longer_height (8x16 to 10x8) through random_crop.py: the centred
        // window of the target ratio is int(8 * 8 / 10) = 6 wide, so it starts at column int((16 - 6) / 2) = 5;
        // _random_crop then slices rows [0, 10) and columns [5, 13), which the 8-row input cuts to 8x8, and resizes
        // that to 10x8 (bilinear, half-pixel centres). On the image r * 16 + c, the columns stay 5..12 and row i reads
        // source row y = clamp((i + 0.5) * 8 / 10 - 0.5, 0, 7): the output is 16 * y + 5 + j.
        using var scope = NewDisposeScope();
        var input = arange(8 * 16, ScalarType.Float32).view(1, 1, 8, 16);
        using var layer = TrainingCrop(10, 8, 8, 16);

        var output = layer.call(input);

        Assert.Equal([1L, 1, 10, 8], output.shape);
        float[] values = output.contiguous().data<float>().ToArray();
        for (int i = 0; i < 10; i++)
        {
            double y = Math.Clamp(((i + 0.5) * 0.8) - 0.5, 0, 7);
            for (int j = 0; j < 8; j++)
            {
                Assert.Equal((16 * y) + 5 + j, values[(i * 8) + j], 1e-4);
            }
        }
    }

    [Fact]
    public void An_optimizer_step_with_no_gradients_raises()
    {
        // keras/src/optimizers/optimizer_test.py::OptimizerTest::test_empty_gradients: apply_gradients with no
        // gradient raises "No gradients provided for any variable." (base_optimizer.py, _filter_empty_gradients).
        using var scope = NewDisposeScope();
        var v = new TorchSharp.Modules.Parameter(tensor(new[,] { { 3f, 4f }, { 5f, 6f } }));
        var optimizer = new Sgd(learningRate: 1.0);
        optimizer.Bind([v]);

        var error = Assert.Throws<InvalidOperationException>(optimizer.Step);

        Assert.StartsWith("No gradients provided for any variable", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, optimizer.Iterations);
        Assert.False(optimizer.IsBuilt);
        Assert.Equal(new[] { 3f, 4f, 5f, 6f }, v.data<float>().ToArray());
    }

    [Fact]
    public void Sgd_accepts_momentum_one_and_keeps_the_whole_velocity()
    {
        // keras/src/optimizers/sgd.py (v3.8.0) line 74: only `momentum < 0 or momentum > 1` raises; update_step:
        // m = momentum * m - lr * g; w += m. With momentum 1 and a constant gradient 1: m = -0.1, then -0.2.
        using var scope = NewDisposeScope();
        var optimizer = new Sgd(learningRate: 0.1, momentum: 1.0);
        Assert.Equal(1.0, optimizer.Momentum);
        var w = new TorchSharp.Modules.Parameter(tensor(new[] { 1f }));
        optimizer.Bind([w]);
        for (int step = 0; step < 2; step++)
        {
            optimizer.ZeroGrad();
            w.sum().backward();
            optimizer.Step();
        }

        Assert.Equal(1 - 0.1 - 0.2, w.item<float>(), 1e-6);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(momentum: 1.01)).ParamName);
    }

    [Fact]
    public void Dropout_rate_one_is_accepted_and_outputs_zeros_in_training()
    {
        // keras/src/layers/regularization/dropout.py (v3.15.1) line 43: only `not 0 <= rate <= 1` raises; the
        // backends' dropout returns zeros for rate 1 (keras/src/backend/numpy/random.py, dropout: `if rate == 1.0:
        // return np.zeros_like(inputs)`). Inference is the identity.
        using var scope = NewDisposeScope();
        using var layer = new Dropout(1.0);
        layer.Build(new LayerShape(5));
        var x = rand(4, 5) + 1;
        layer.train();
        Assert.True(Same(layer.call(x), zeros(4, 5)));
        layer.eval();
        Assert.True(Same(layer.call(x), x));
    }

    [Fact]
    public void With_a_learning_rate_schedule_the_summary_counts_no_learning_rate_variable()
    {
        // keras/src/optimizers/base_optimizer.py (v3.8.0) lines 168-174: a LearningRateSchedule is kept as it is, not
        // as a variable, so optimizer.variables (summary_utils.py's "Optimizer params") has one scalar less than the
        // 539,750 of Adam(0.001): the iteration, then m and v for the 269,874 trainable weights.
        using var scope = NewDisposeScope();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        model.Compile(new Adam(new ExponentialDecay(1e-3, decaySteps: 100, decayRate: 0.9)));
        var (train, _) = SyntheticImages.Generate(new SyntheticOptions { TrainCount = 8, TestCount = 8 });
        model.Fit(train, batchSize: 8, epochs: 1, verbose: 0);
        using var writer = new StringWriter();
        model.Summary(writer);
        string summary = writer.ToString();

        Assert.Contains(" Optimizer params: 539,749 (2.06 MB)", summary, StringComparison.Ordinal);
        Assert.Contains(" Total params: 810,231 (3.09 MB)", summary, StringComparison.Ordinal);
    }
}
