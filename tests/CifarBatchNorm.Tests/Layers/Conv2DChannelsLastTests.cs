using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Layers;

/// <summary>
/// Conv2D runs its convolutions channels-last on CPU in inference and NCHW in training. The oracle is the same
/// convolution in float64, which libtorch computes without oneDNN (whose AVX-512 NCHW input-gradient kernel is
/// known to be wrong on some CPUs).
/// </summary>
public sealed class Conv2DChannelsLastTests
{
    [Theory]
    [InlineData(3, 8, 1)]
    [InlineData(8, 8, 2)]
    [InlineData(8, 16, 3)]
    [InlineData(16, 16, 4)]
    [InlineData(1, 8, 5)]
    public void Training_forward_and_gradients_match_float64(int inChannels, int filters, int seed)
    {
        using var scope = NewDisposeScope();
        manual_seed(seed);
        var layer = new Conv2D(filters, 3, padding: ConvPadding.Same, activation: ActivationFunction.Relu) { ChannelsLastInference = true };
        layer.Build(new LayerShape(32, 32, inChannels));
        var x = randn(8, inChannels, 32, 32);
        var upstream = randn(8, filters, 32, 32);

        var input = x.clone().requires_grad_(true);
        var output = layer.call(input);
        output.mul(upstream).sum().backward();

        var weight = layer.parameters().First();
        var bias = layer.parameters().Last();
        var x64 = x.to(ScalarType.Float64).requires_grad_(true);
        var w64 = weight.detach().to(ScalarType.Float64).requires_grad_(true);
        var b64 = bias.detach().to(ScalarType.Float64).requires_grad_(true);
        var expected = nn.functional.relu(nn.functional.conv2d(x64, w64, b64, padding: [1, 1]));
        expected.mul(upstream.to(ScalarType.Float64)).sum().backward();

        TensorAssert.CloseToFloat64(expected, output);
        TensorAssert.CloseToFloat64(x64.grad!, input.grad!);
        TensorAssert.CloseToFloat64(w64.grad!, weight.grad!);
        TensorAssert.CloseToFloat64(b64.grad!, bias.grad!);
    }

    [Theory]
    [InlineData(3, 8, 6)]
    [InlineData(8, 16, 7)]
    public void Inference_runs_channels_last_and_matches_float64(int inChannels, int filters, int seed)
    {
        using var scope = NewDisposeScope();
        manual_seed(seed);
        var layer = new Conv2D(filters, 3, padding: ConvPadding.Same, activation: ActivationFunction.Relu) { ChannelsLastInference = true };
        layer.Build(new LayerShape(32, 32, inChannels));
        var x = randn(8, inChannels, 32, 32);
        using var noGrad = no_grad();

        var output = layer.call(x);

        var parameters = layer.parameters().ToArray();
        var expected = nn.functional.relu(nn.functional.conv2d(
            x.to(ScalarType.Float64), parameters[0].to(ScalarType.Float64), parameters[1].to(ScalarType.Float64), padding: [1, 1]));
        Assert.Equal(1, output.stride(1)); // NHWC strides
        TensorAssert.CloseToFloat64(expected, output);
    }
}
