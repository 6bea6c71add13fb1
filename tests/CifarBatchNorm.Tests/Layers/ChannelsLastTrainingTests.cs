using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using CifarBatchNorm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Layers;

/// <summary>
/// In training on CPU under jemalloc, MaxPooling2D pools a channels-last copy and the layers after it stay
/// channels-last (faster kernels). The results must be those of the NCHW computation: same maxima, same winner in each window (ties
/// included), gradients as in float64.
/// </summary>
public sealed class ChannelsLastTrainingTests
{
    [Theory]
    [InlineData(8, 30, 1)]
    [InlineData(16, 11, 2)]
    [InlineData(16, 13, 3)]
    public void Max_pooling_gives_the_nchw_values_and_gradients_with_ties_and_stays_channels_last(int channels, int size, int seed)
    {
        using var scope = NewDisposeScope();
        manual_seed(seed);
        // Few distinct values: most windows hold ties, which the gradient must route to the first maximum, as Keras does.
        var x = randint(0, 3, [4, channels, size, size]).to(ScalarType.Float32);
        var upstream = randn(4, channels, size / 2, size / 2);
        var layer = new MaxPooling2D { ChannelsLastTraining = true };
        layer.Build(new LayerShape(size, size, channels));

        var input = x.clone().requires_grad_(true);
        var output = layer.call(input);
        output.mul(upstream).sum().backward();
        var reference = x.clone().requires_grad_(true);
        var expected = nn.functional.max_pool2d(reference, 2, 2);
        expected.mul(upstream).sum().backward();

        Assert.Equal(1, output.stride(1));
        Assert.Equal(expected.shape, output.shape);
        Assert.True(expected.eq(output).all().item<bool>(), "pooled values differ");
        Assert.True(reference.grad!.eq(input.grad!).all().item<bool>(), "gradients differ");
        Assert.Equal(4 * channels * (size / 2) * (size / 2), input.grad!.ne(0).sum().item<long>()); // one winner per window
    }

    [Fact]
    public void A_convolution_after_pooling_trains_channels_last_and_matches_float64()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var pool = new MaxPooling2D { ChannelsLastTraining = true };
        pool.Build(new LayerShape(30, 30, 8));
        var conv = new Conv2D(16, 3, activation: ActivationFunction.Relu);
        conv.Build(new LayerShape(15, 15, 8));
        var x = randn(8, 8, 30, 30);
        var upstream = randn(8, 16, 13, 13);

        var input = x.clone().requires_grad_(true);
        var output = conv.call(pool.call(input));
        output.mul(upstream).sum().backward();

        var weight = conv.parameters().First();
        var x64 = x.to(ScalarType.Float64).requires_grad_(true);
        var w64 = weight.detach().to(ScalarType.Float64).requires_grad_(true);
        var b64 = conv.parameters().Last().detach().to(ScalarType.Float64);
        var expected = nn.functional.relu(nn.functional.conv2d(nn.functional.max_pool2d(x64, 2, 2), w64, b64));
        expected.mul(upstream.to(ScalarType.Float64)).sum().backward();

        Assert.Equal(1, output.stride(1));
        TensorAssert.CloseToFloat64(expected, output);
        TensorAssert.CloseToFloat64(x64.grad!, input.grad!);
        TensorAssert.CloseToFloat64(w64.grad!, weight.grad!);
    }

    [Fact]
    public void Narrow_batch_norm_normalizes_a_channels_last_input_in_nchw_with_the_same_result()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var x = randn(16, 8, 12, 12).mul(3).add(1);
        var channelsLast = LayoutSwitch.ChannelsLast(x);
        var a = new BatchNormalization { MinChannelsLastChannels = LayoutPolicy.FastCpu.MinChannelsLastNormChannels };
        var b = new BatchNormalization { MinChannelsLastChannels = LayoutPolicy.FastCpu.MinChannelsLastNormChannels };
        a.Build(new LayerShape(12, 12, 8));
        b.Build(new LayerShape(12, 12, 8));
        a.train();
        b.train();

        var fromNchw = a.call(x);
        var fromChannelsLast = b.call(channelsLast);

        Assert.True(fromChannelsLast.is_contiguous(), "an 8-channel input should be normalized in NCHW");
        TensorAssert.CloseToFloat64(fromNchw.to(ScalarType.Float64), fromChannelsLast);
        TensorAssert.CloseToFloat64(a.buffers().First().to(ScalarType.Float64), b.buffers().First());
    }

    [Fact]
    public void With_glibc_training_stays_nchw()
    {
        using var scope = NewDisposeScope();
        var layer = new MaxPooling2D { ChannelsLastTraining = false };
        layer.Build(new LayerShape(8, 8, 8));

        var output = layer.call(randn(2, 8, 8, 8).requires_grad_(true));

        Assert.True(output.is_contiguous());
    }

    [Fact]
    public void The_notebook_model_trains_bit_identically_channels_last_and_like_nchw()
    {
        var (train, test) = SyntheticImages.Generate(new SyntheticOptions { TrainCount = 512, TestCount = 128, Seed = 8 });

        History Train(bool channelsLast)
        {
            manual_seed(21);
            using var model = ModelPresets.Notebook(ImageShape.Cifar10);
            foreach (var pool in model.Layers.OfType<MaxPooling2D>())
            {
                pool.ChannelsLastTraining = channelsLast;
            }

            model.Compile(new Adam());
            return model.Fit(train, batchSize: 128, epochs: 2, verbose: 0, validationData: test);
        }

        var first = Train(channelsLast: true);
        var second = Train(channelsLast: true);
        var nchw = Train(channelsLast: false);

        foreach (string key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
        {
            Assert.Equal(first.Values[key], second.Values[key]);
        }

        // Same computation in another memory layout: only the rounding of the sums differs.
        Assert.InRange(first.Values["loss"][0], nchw.Values["loss"][0] * 0.995, nchw.Values["loss"][0] * 1.005);
        Assert.InRange(first.Values["loss"][1], nchw.Values["loss"][1] * 0.99, nchw.Values["loss"][1] * 1.01);
    }

    [Fact]
    public void The_pooling_copy_sends_its_gradient_back_in_the_layout_of_its_input()
    {
        using var scope = NewDisposeScope();
        var layer = new MaxPooling2D { ChannelsLastTraining = true };
        layer.Build(new LayerShape(16, 16, 8));
        var x = randn(4, 8, 16, 16).requires_grad_(true);

        var output = layer.call(GradientLayoutProbe.apply(x));
        output.sum().backward();

        Assert.Equal(1, output.stride(1));
        Assert.True(GradientLayoutProbe.LastWasContiguous, "the gradient reached the layer before the pooling channels-last");
    }

    /// <summary>Identity whose backward records whether the incoming gradient is NCHW-contiguous.</summary>
    private sealed class GradientLayoutProbe : autograd.SingleTensorFunction<GradientLayoutProbe>
    {
        public static bool LastWasContiguous { get; private set; }

        public override string Name => nameof(GradientLayoutProbe);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).clone();

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            LastWasContiguous = grad_output.is_contiguous();
            return [grad_output];
        }
    }
}
