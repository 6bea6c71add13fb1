using CifarBatchNorm.Layers;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>Dense, Flatten and the glorot-uniform initializer, from Keras's own tests.</summary>
public sealed class CoreLayerParityTests
{
    // keras-team/keras keras/src/layers/core/dense_test.py::DenseTest.test_dense_correctness
    // (Keras's kernel is (in, out); TorchSharp's Linear weight is (out, in): transposed here).
    [Fact]
    public void Dense_correctness()
    {
        using var scope = NewDisposeScope();
        var withBias = new Dense(2, ActivationFunction.Relu);
        withBias.Build(new LayerShape(2));
        var noBias = new Dense(2, useBias: false);
        noBias.Build(new LayerShape(2));
        using (no_grad())
        {
            var kernel = tensor(new float[,] { { 1, -2 }, { 3, -4 } });
            withBias.Linear.weight!.copy_(kernel.t());
            withBias.Linear.bias!.copy_(tensor(new float[] { 5, -6 }));
            noBias.Linear.weight!.copy_(kernel.t());
        }

        var inputs = tensor(new float[,] { { -1, 2 } });

        Assert.Equal([10f, 0f], withBias.call(inputs).data<float>().ToArray());
        Assert.Null(noBias.Linear.bias);
        Assert.Equal([5f, -6f], noBias.call(inputs).data<float>().ToArray());
    }

    // keras-team/keras keras/src/layers/reshaping/flatten_test.py::FlattenTest.test_flatten: (N, d1, d2, ...) -> (N, d1 * d2 * ...).
    // Deviation: the values come out in (C, H, W) order, the library's layout (README, Keras fidelity).
    [Fact]
    public void Flatten_keeps_the_batch_and_multiplies_the_rest()
    {
        using var scope = NewDisposeScope();
        var layer = new Flatten();
        var shape = layer.Build(new LayerShape(3, 4, 5));
        var x = arange(2 * 5 * 3 * 4, dtype: ScalarType.Float32).reshape(2, 5, 3, 4);

        var y = layer.call(x);

        Assert.Equal(new LayerShape(60), shape);
        Assert.Equal([2L, 60L], y.shape);
        Assert.True(y.eq(x.reshape(2, 60)).all().item<bool>());
    }

    // keras-team/keras keras/src/initializers/random_initializers_test.py::RandomInitializersTest.test_variance_scaling
    // (glorot_uniform is VarianceScaling(scale=1, mode="fan_avg", distribution="uniform")): limit sqrt(6 / (fan_in +
    // fan_out)), standard deviation limit / sqrt(3) within Keras's atol 1e-1; biases zero.
    [Fact]
    public void Glorot_uniform_kernels_and_zero_biases()
    {
        using var scope = NewDisposeScope();
        manual_seed(1337);
        var dense = new Dense(20);
        dense.Build(new LayerShape(25));
        var conv = new Conv2D(16, 3);
        conv.Build(new LayerShape(8, 8, 8));

        foreach (var (weight, fanIn, fanOut) in new[] { (dense.Linear.weight!, 25.0, 20.0), (conv.Convolution.weight!, 8.0 * 9, 16.0 * 9) })
        {
            double limit = Math.Sqrt(6 / (fanIn + fanOut));
            Assert.True(weight.abs().max().item<float>() <= limit);
            Assert.Equal(limit / Math.Sqrt(3), weight.std().item<float>(), 1e-1);
        }

        Assert.True(dense.Linear.bias!.eq(0).all().item<bool>());
        Assert.True(conv.Convolution.bias!.eq(0).all().item<bool>());
    }
}
