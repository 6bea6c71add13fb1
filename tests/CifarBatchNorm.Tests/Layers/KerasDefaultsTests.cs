using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Layers;

public sealed class KerasDefaultsTests
{
    [Fact]
    public void The_notebook_model_has_keras_names_and_output_shapes()
    {
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);

        Assert.Equal(
            ["conv2d", "batch_normalization", "conv2d_1", "batch_normalization_1", "max_pooling2d", "conv2d_2", "batch_normalization_2",
             "conv2d_3", "batch_normalization_3", "max_pooling2d_1", "flatten", "dense", "batch_normalization_4", "dense_1"],
            model.Layers.Select(l => l.Name));
        Assert.Equal(
            ["(None, 32, 32, 8)", "(None, 32, 32, 8)", "(None, 32, 32, 8)", "(None, 32, 32, 8)", "(None, 16, 16, 8)", "(None, 16, 16, 16)",
             "(None, 16, 16, 16)", "(None, 16, 16, 16)", "(None, 16, 16, 16)", "(None, 8, 8, 16)", "(None, 1024)", "(None, 256)", "(None, 256)", "(None, 10)"],
            model.Layers.Select(l => l.OutputShape.ToString()));
        using var fashion = ModelPresets.Notebook(new ImageShape(28, 28, 1));
        Assert.Equal("(None, 784)", fashion.Layers.Single(l => l is CifarBatchNorm.Layers.Flatten).OutputShape.ToString());
    }

    [Fact]
    public void Batch_normalization_uses_keras_momentum_epsilon_and_initial_values()
    {
        using var scope = NewDisposeScope();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        var layer = (BatchNormalization)model.Layers[1];
        var bn = (BatchNorm2d)layer.Normalization;

        Assert.True(bn.running_mean!.eq(0).all().item<bool>());
        Assert.True(bn.running_var!.eq(1).all().item<bool>());
        Assert.True(bn.weight!.eq(1).all().item<bool>());
        Assert.True(bn.bias!.eq(0).all().item<bool>());

        // One training-mode batch: moving = 0.99 * moving + 0.01 * batch statistic, with the BIASED batch variance as
        // Keras 3 keeps it; output normalized with epsilon 1e-3.
        manual_seed(5);
        var x = (randn(16, 8, 4, 4) * 3) + 2;
        layer.train();
        var y = layer.call(x);
        var mean = x.mean([0, 2, 3]);
        var biased = x.var([0, 2, 3], unbiased: false);
        Assert.True(bn.running_mean!.allclose(mean * 0.01, rtol: 1e-4, atol: 1e-6));
        Assert.True(bn.running_var!.allclose((0.99 + (biased * 0.01)), rtol: 1e-5, atol: 1e-6));
        var expected = (x - mean.view(1, -1, 1, 1)) / (biased.view(1, -1, 1, 1) + 1e-3).sqrt();
        Assert.True(y.allclose(expected, rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Kernels_are_glorot_uniform_and_biases_zero()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        var dense = (Dense)model.Layers.Single(l => l.Name == "dense");
        var conv = (Conv2D)model.Layers.Single(l => l.Name == "conv2d_3");
        foreach (var (weight, fanIn, fanOut) in new[] { (dense.Linear.weight!, 1024.0, 256.0), (conv.Convolution.weight!, 16.0 * 9, 16.0 * 9) })
        {
            double limit = Math.Sqrt(6 / (fanIn + fanOut));
            Assert.True(weight.abs().max().item<float>() <= limit);
            Assert.Equal(limit * limit / 3, weight.var().item<float>(), 2);  // variance of U(-l, l)
        }

        Assert.True(dense.Linear.bias!.eq(0).all().item<bool>());
        Assert.True(conv.Convolution.bias!.eq(0).all().item<bool>());
    }

    [Fact]
    public void Bad_layer_arguments_name_the_argument()
    {
        Assert.Equal("filters", Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2D(0, 3)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(momentum: 1.0)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(epsilon: 0)).ParamName);
        Assert.Equal("units", Assert.Throws<ArgumentOutOfRangeException>(() => new Dense(0)).ParamName);
        var model = new CifarBatchNorm.Training.Sequential(ImageShape.Cifar10);
        var error = Assert.Throws<ArgumentException>(() => model.Add(new Dense(10)));
        Assert.Contains("Dense expects a flat input (units), got (None, 32, 32, 3): add a Flatten layer before it.", error.Message);
        var conv = new Conv2D(4, 3);
        model.Add(conv);
        Assert.Throws<ArgumentException>(() => model.Add(conv));
        Assert.Contains("expected 4D input, but got 2D input", Assert.Throws<ArgumentException>(() => conv.call(zeros(2, 3))).Message);
    }
}
