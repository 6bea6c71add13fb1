using CifarBatchNorm.Layers;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>
/// keras-team/keras keras/src/layers/normalization/batch_normalization_test.py, ported. Keras's tensors are NHWC with
/// the channel axis last (axis=-1); this library's are NCHW with the channel axis 1: the same statistic per channel.
/// </summary>
public sealed class BatchNormalizationParityTests
{
    private static BatchNormalization Built(LayerShape shape, double momentum = 0.99, double epsilon = 1e-3)
    {
        var layer = new BatchNormalization(momentum: momentum, epsilon: epsilon);
        layer.Build(shape);
        return layer;
    }

    private static long[] ReductionAxes(Tensor x) => x.dim() == 4 ? [0, 2, 3] : [0];

    private static long[] Broadcast(Tensor x) => x.dim() == 4 ? [1, x.shape[1], 1, 1] : [1, x.shape[1]];

    // ::BatchNormalizationTest.test_correctness, axis=-1, input_shape (5, 3, 3, 2) (NCHW: (5, 2, 3, 3)) and a Dense
    // input (5, 3), with moving_mean_initializer and moving_variance_initializer each "zeros" or "ones".
    [Theory]
    [InlineData(4, 0.0, 0.0)]
    [InlineData(4, 0.0, 1.0)]
    [InlineData(4, 1.0, 0.0)]
    [InlineData(4, 1.0, 1.0)]
    [InlineData(2, 0.0, 1.0)]
    [InlineData(2, 1.0, 0.0)]
    public void Correctness(int rank, double movingMeanInit, double movingVarianceInit)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var shape = rank == 4 ? new LayerShape(3, 3, 2) : new LayerShape(3);
        using var layer = Built(shape, momentum: 0);
        layer.MovingMean.fill_(movingMeanInit);
        layer.MovingVariance.fill_(movingVarianceInit);
        var x = rank == 4 ? (randn(5, 2, 3, 3, dtype: ScalarType.Float64) * 10) + 5 : (randn(5, 3, dtype: ScalarType.Float64) * 10) + 5;
        x = x.to(ScalarType.Float32);

        layer.train();
        var output = x;
        for (int i = 0; i < 3; i++)
        {
            output = layer.call(output);
        }

        var normalized = (output - layer.Beta!.view(Broadcast(x))) / layer.Gamma!.view(Broadcast(x));
        var mean = normalized.mean(ReductionAxes(x)).to(ScalarType.Float64);
        var std = normalized.to(ScalarType.Float64).std(ReductionAxes(x), unbiased: false);   // np.std: biased
        Assert.True(mean.abs().max().item<double>() <= 1e-3, $"mean {mean.abs().max().item<double>()}");
        Assert.True((std - 1).abs().max().item<double>() <= 1e-3, $"std {std.ToString(TorchSharp.TensorStringStyle.Numpy)}");
        Assert.True(layer.MovingMean.abs().max().item<float>() <= 1e-3, "moving mean");
        Assert.True((layer.MovingVariance - 1).abs().max().item<float>() <= 1e-3,
            $"moving variance {string.Join(", ", layer.MovingVariance.data<float>().ToArray())} (Keras 3 keeps the biased variance)");

        // Inference done before training shouldn't match.
        layer.eval();
        var inferenceBefore = layer.call(x);
        layer.train();
        var trainingOut = layer.call(x);
        Assert.False(inferenceBefore.allclose(trainingOut, rtol: 1e-5, atol: 1e-5));

        // Since momentum is zero, inference after training should match.
        trainingOut = layer.call(x);
        layer.eval();
        var inferenceAfter = layer.call(x);
        Assert.True(inferenceAfter.allclose(trainingOut, rtol: 1e-5, atol: 1e-5),
            $"largest difference {(inferenceAfter - trainingOut).abs().max().item<float>()}");
    }

    // ::BatchNormalizationTest.test_trainable_behavior
    [Fact]
    public void Trainable_behavior()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var layer = Built(new LayerShape(4, 4, 3), momentum: 0.8, epsilon: 1e-7);
        layer.Trainable = false;
        Assert.DoesNotContain(layer.parameters(), p => p.requires_grad);
        var x = (randn(200, 3, 4, 4) * 10) + 5;

        layer.train();
        var frozenOut = layer.call(x);
        Assert.True(frozenOut.allclose(x, rtol: 1e-4, atol: 1e-4), "a frozen layer runs in inference mode (moving mean 0, variance 1)");

        layer.Trainable = true;
        Assert.Equal(2, layer.parameters().Count(p => p.requires_grad));
        Tensor output = x;
        for (int i = 0; i < 10; i++)
        {
            output = layer.call(x);
        }

        var normalized = (output - layer.Beta!.view(1, 3, 1, 1)) / layer.Gamma!.view(1, 3, 1, 1);
        Assert.True(normalized.mean([0, 2, 3]).abs().max().item<float>() <= 1e-3);
        Assert.True((normalized.std([0, 2, 3], unbiased: false) - 1).abs().max().item<float>() <= 1e-3);
    }

    [Fact]
    public void Center_and_scale_false_have_no_beta_or_gamma_weights()
    {
        // keras-team/keras keras/src/layers/normalization/batch_normalization.py::BatchNormalization.build: no beta
        // without center, no gamma without scale.
        using var model = new global::CifarBatchNorm.Training.Sequential(new LayerShape(4));
        var layer = new BatchNormalization(center: false, scale: false);
        model.Add(layer);

        Assert.Null(layer.Beta);
        Assert.Null(layer.Gamma);
        Assert.Equal((0L, 8L), model.CountParameters());
    }

    [Fact]
    public void A_batch_of_one_trains_without_nan_as_keras_does()
    {
        using var scope = NewDisposeScope();
        using var layer = Built(new LayerShape(3), momentum: 0.5);
        layer.train();

        var y = layer.call(tensor(new float[,] { { 1, 2, 3 } }));

        // One value per feature: mean = value, biased variance 0, so the output is beta (0).
        Assert.True(y.eq(0).all().item<bool>());
        Assert.Equal([0.5f, 1f, 1.5f], layer.MovingMean.data<float>().ToArray());
        Assert.Equal([0.5f, 0.5f, 0.5f], layer.MovingVariance.data<float>().ToArray());
    }

    [Theory]
    [InlineData(-0.1, 1e-3, "momentum")]
    [InlineData(1.0, 1e-3, "momentum")]
    [InlineData(0.99, 0.0, "epsilon")]
    public void Bad_arguments_are_refused_naming_the_argument(double momentum, double epsilon, string name)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(momentum, epsilon));
        Assert.Equal(name, error.ParamName);
    }
}
