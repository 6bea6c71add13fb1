using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using CifarBatchNorm.Tests.Support;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Layers;

/// <summary>
/// The fused ReLU + batch-norm kernels (<c>ExecutionPolicy.FusedKernels</c>) against float64 oracles: the composition
/// relu/batch_norm/relu computed by libtorch in float64 with autograd, on the same data, in every layout the kernels
/// take; the moving statistics against the unfused layer's; a seed's losses run to run; whole-model training against
/// the unfused kernels.
/// </summary>
public sealed class FusedBatchNormTests
{
    public static TheoryData<string, int, int, bool> Layouts => new()
    {
        { "nchw", 8, 30, true },          // the notebook's first block (NCHW, 8 channels)
        { "channels-last", 8, 30, true }, // the same, channels-last
        { "channels-last", 16, 13, true },
        { "channels-last", 3, 5, true },  // a period longer than one vector (lcm(3, 16) = 48 floats) and a scalar tail
        { "nchw", 5, 7, false },          // BN then ReLU, planes that are not a whole number of vectors
        { "channels-last", 16, 11, false },
        { "flat", 256, 0, true },         // after Dense(256)
        { "flat", 7, 0, false },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Forward_and_gradients_match_float64_autograd(string layout, int channels, int size, bool reluBefore)
    {
        using var scope = NewDisposeScope();
        manual_seed(channels * 31 + size);
        var data = (size == 0 ? randn(64, channels) : randn(6, channels, size, size)).mul(2).add(0.5);
        var gamma = rand(channels).add(0.5);
        var beta = randn(channels);
        var upstream = randn_like(data);
        var x = (layout == "channels-last" ? data.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : data.clone()).requires_grad_(true);
        var g = gamma.clone().requires_grad_(true);
        var b = beta.clone().requires_grad_(true);

        var (output, mean, variance) = FusedBatchNorm.Forward(x, g, b, 1e-3, reluBefore, reluAfter: !reluBefore);
        output.mul(upstream).sum().backward();

        var x64 = data.to(ScalarType.Float64).requires_grad_(true);
        var g64 = gamma.to(ScalarType.Float64).requires_grad_(true);
        var b64 = beta.to(ScalarType.Float64).requires_grad_(true);
        var a64 = reluBefore ? nn.functional.relu(x64) : x64;
        long[] axes = size == 0 ? [0] : [0, 2, 3];
        var mean64 = a64.mean(axes);
        var variance64 = a64.var(axes, unbiased: false);
        var normalized = nn.functional.batch_norm(a64, null, null, g64, b64, training: true, eps: 1e-3);
        var expected = reluBefore ? normalized : nn.functional.relu(normalized);
        expected.mul(upstream.to(ScalarType.Float64)).sum().backward();

        Assert.Equal(x.stride(), output.stride());
        CloseRelative(expected, output);
        CloseRelative(x64.grad!, x.grad!);
        CloseRelative(g64.grad!, g.grad!);
        CloseRelative(b64.grad!, b.grad!);
        CloseRelative(mean64, tensor(mean));
        CloseRelative(variance64, tensor(variance));
    }

    [Fact]
    public void Threaded_and_serial_loops_give_the_same_bits()
    {
        // The blocks and the order of their sums are fixed by the shape, not by the threads that run them.
        using var scope = NewDisposeScope();
        manual_seed(13);
        var data = randn(64, 8, 24, 24).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        var upstream = randn_like(data);
        (Tensor Output, Tensor Grad, double[] Mean) Run(bool threaded) => FusedThreading.With(threaded, () =>
        {
            var x = data.clone().requires_grad_(true);
            var (output, mean, _) = FusedBatchNorm.Forward(x, ones(8), zeros(8), 1e-3, reluBefore: true, reluAfter: false);
            output.mul(upstream).sum().backward();
            return (output, x.grad!, mean);
        });

        var serial = Run(threaded: false);
        var threaded = Run(threaded: true);

        Assert.True(serial.Output.eq(threaded.Output).all().item<bool>());
        Assert.True(serial.Grad.eq(threaded.Grad).all().item<bool>());
        Assert.Equal(serial.Mean, threaded.Mean);
    }

    [Fact]
    public void Gradient_check_on_a_tiny_batch()
    {
        // Central differences of the float64 oracle's loss against the fused float32 gradient, element by element.
        using var scope = NewDisposeScope();
        manual_seed(11);
        var data = randn(3, 2, 2, 3);
        var gamma = tensor(new[] { 1.5f, 0.7f });
        var beta = tensor(new[] { 0.1f, -0.2f });
        var upstream = randn_like(data);
        var x = data.clone().requires_grad_(true);
        var (output, _, _) = FusedBatchNorm.Forward(x, gamma, beta, 1e-3, reluBefore: true, reluAfter: false);
        output.mul(upstream).sum().backward();

        double Loss(Tensor input)
        {
            var normalized = nn.functional.batch_norm(nn.functional.relu(input), null, null, gamma.to(ScalarType.Float64), beta.to(ScalarType.Float64), training: true, eps: 1e-3);
            return normalized.mul(upstream.to(ScalarType.Float64)).sum().item<double>();
        }

        var flat = data.to(ScalarType.Float64).flatten();
        var gradient = x.grad!.flatten();
        const double h = 1e-6;
        for (int i = 0; i < flat.numel(); i++)
        {
            if (Math.Abs(flat[i].item<double>()) < 1e-3)
            {
                continue;                                              // ReLU's kink: no derivative there
            }

            var plus = flat.clone();
            plus[i] = plus[i] + h;
            var minus = flat.clone();
            minus[i] = minus[i] - h;
            double numeric = (Loss(plus.reshape(data.shape)) - Loss(minus.reshape(data.shape))) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i].item<float>()) <= 1e-4 * Math.Max(1, Math.Abs(numeric)),
                $"element {i}: numeric {numeric}, fused {gradient[i].item<float>()}");
        }
    }

    [Fact]
    public void Moving_statistics_follow_the_unfused_layer_over_several_steps()
    {
        using var scope = NewDisposeScope();
        var fused = new BatchNormalization(momentum: 0.9);
        var plain = new BatchNormalization(momentum: 0.9);
        fused.Build(new LayerShape(9, 9, 8));
        plain.Build(new LayerShape(9, 9, 8));
        fused.train(true);
        plain.train(true);
        manual_seed(12);
        for (int step = 0; step < 5; step++)
        {
            var z = randn(16, 8, 9, 9).mul(step + 1).add(step);
            fused.ForwardFused(z, reluBefore: true, reluAfter: false);
            plain.call(nn.functional.relu(z));
        }

        CloseRelative(plain.MovingMean.to(ScalarType.Float64), fused.MovingMean, 1e-6);
        CloseRelative(plain.MovingVariance.to(ScalarType.Float64), fused.MovingVariance, 1e-6);
        Assert.Equal(5L, fused.Normalization.named_buffers().Single(b => b.name == "num_batches_tracked").buffer.item<long>());
    }

    [Fact]
    public void A_layer_without_gamma_and_beta_trains_fused_like_unfused()
    {
        // Keras's center=False, scale=False: gamma and beta exist but are frozen at 1 and 0 (no gradient wanted).
        using var scope = NewDisposeScope();
        var fused = new BatchNormalization(center: false, scale: false);
        var plain = new BatchNormalization(center: false, scale: false);
        fused.Build(new LayerShape(6, 6, 4));
        plain.Build(new LayerShape(6, 6, 4));
        fused.train(true);
        plain.train(true);
        manual_seed(14);
        var z = randn(8, 4, 6, 6);
        var upstream = randn(8, 4, 6, 6);
        var x1 = z.clone().requires_grad_(true);
        var x2 = z.clone().requires_grad_(true);

        var output = fused.ForwardFused(x1, reluBefore: true, reluAfter: false);
        output.mul(upstream).sum().backward();
        var expected = plain.call(nn.functional.relu(x2));
        expected.mul(upstream).sum().backward();

        CloseRelative(expected.to(ScalarType.Float64), output);
        CloseRelative(x2.grad!.to(ScalarType.Float64), x1.grad!);
        Assert.All(fused.parameters(), p => Assert.Null(p.grad));
    }

    [Theory]
    [InlineData(NormalizationVariant.Bn, false, 16)] // the first pooling unfused (NCHW), the second fused
    [InlineData(NormalizationVariant.Bn, true, 16)]  // both poolings fused into their batch norm's stage
    [InlineData(NormalizationVariant.BnBeforeRelu, true, 16)]
    [InlineData(NormalizationVariant.Bn, true, 14)]  // the second pooling's input is 7x7: two stages there
    [InlineData(NormalizationVariant.Renorm, true, 16)] // nothing fused; the layout changes
    [InlineData(NormalizationVariant.None, true, 16)]
    public void A_seed_gives_the_same_losses_run_to_run_and_the_unfused_losses_within_float_rounding(NormalizationVariant variant, bool channelsLastThroughout, int size)
    {
        // channelsLastThroughout: the policy --fused-kernels runs (WithFusedKernels); else fused with the first half NCHW.
        var fused = channelsLastThroughout ? ExecutionPolicy.Cpu.WithFusedKernels() : ExecutionPolicy.Cpu with { FusedKernels = true };
        var fusedA = TrainLosses(fused, variant, size);
        var fusedB = TrainLosses(fused, variant, size);
        var plain = TrainLosses(ExecutionPolicy.Cpu, variant, size);

        Assert.Equal(fusedA, fusedB);
        for (int i = 0; i < plain.Length; i++)
        {
            Assert.True(Math.Abs(plain[i] - fusedA[i]) <= 1e-4 * Math.Max(1, Math.Abs(plain[i])), $"step {i}: unfused {plain[i]}, fused {fusedA[i]}");
        }
    }

    [Fact]
    public void The_policy_switch_is_off_by_default_and_printed_when_on()
    {
        Assert.False(ExecutionPolicy.Cpu.FusedKernels);
        Assert.False(ExecutionPolicy.Cpu.Layout.ChannelsLastFromInputTraining);
        Assert.DoesNotContain("fused", ExecutionPolicy.Cpu.ToString(), StringComparison.Ordinal);
        var fused = ExecutionPolicy.Cpu.WithFusedKernels();
        Assert.True(fused.FusedKernels);
        Assert.True(fused.Layout.ChannelsLastFromInputTraining);
        Assert.Equal(
            "device cpu, layout channels-last from the first convolution in training, channels-last in inference, GC every 64 steps, C heap released with each GC and epoch, fused ReLU+BN kernels in training",
            fused.ToString());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(1)] // a one-channel input is NCHW to libtorch unless its strides say otherwise
    public void With_fused_kernels_the_first_convolution_trains_channels_last_and_the_fused_stage_keeps_it(int channels)
    {
        using var scope = NewDisposeScope();
        using var model = ModelPresets.Notebook(new ImageShape(8, 8, channels)).Apply(ExecutionPolicy.Cpu.WithFusedKernels());
        model.train(true);
        var x = rand(4, channels, 8, 8);
        model.ForwardStage(0, logits: true, ref x);

        Assert.Equal(1, x.stride(1));                                  // (B, C, H, W) with NHWC strides
        Assert.Equal(new long[] { 4, 8, 8, 8 }, x.shape);
    }

    [Theory]
    [InlineData(NormalizationVariant.Bn, 16, 3)]
    [InlineData(NormalizationVariant.BnBeforeRelu, 16, 3)]
    [InlineData(NormalizationVariant.Bn, 14, 3)] // the second pooling's input is 7x7: batch norm fused, pooling apart
    [InlineData(NormalizationVariant.Bn, 28, 1)]
    public void Inference_with_fused_kernels_gives_the_unfused_outputs_within_float_rounding(NormalizationVariant variant, int size, int channels)
    {
        using var scope = NewDisposeScope();
        manual_seed(31);
        using var model = ModelPresets.Notebook(new ImageShape(size, size, channels), variant: variant);
        model.Compile(new Adam());
        manual_seed(32);
        var images = rand(64, channels, size, size);
        var labels = randint(0, 10, [64]);
        for (int step = 0; step < 3; step++)
        {
            model.TrainOnBatch(images, labels);                       // moving statistics away from 0 and 1
        }

        model.eval();
        using var noGrad = no_grad();
        var plain = model.Apply(ExecutionPolicy.Cpu).call(images).to(ScalarType.Float64);
        var x = images;
        int first = model.Apply(ExecutionPolicy.Cpu.WithFusedKernels()).ForwardStage(0, logits: false, ref x);
        var fused = model.call(images);

        // conv2d + batch_normalization as one stage; bn-before-relu: conv2d alone, then batch_normalization + activation
        Assert.Equal(variant == NormalizationVariant.BnBeforeRelu ? 1 : 2, first);
        Assert.False(fused.isnan().any().item<bool>());
        CloseRelative(plain, fused, 1e-4);
        Assert.Equal(plain.argmax(1).data<long>().ToArray(), fused.argmax(1).data<long>().ToArray());
    }

    [Fact]
    public void Inference_fuses_a_pooling_after_its_batch_norm_and_leaves_gradients_to_the_unfused_path()
    {
        using var scope = NewDisposeScope();
        manual_seed(33);
        using var model = ModelPresets.Notebook(new ImageShape(16, 16, 3)).Apply(ExecutionPolicy.Cpu.WithFusedKernels());
        model.eval();
        var images = LayoutSwitch.ChannelsLast(rand(8, 3, 16, 16));
        var x = images;
        model.ForwardStage(0, logits: false, ref x);

        int withoutGradients, withGradients;
        using (no_grad())
        {
            var y = x;
            withoutGradients = model.ForwardStage(2, logits: false, ref y);
            Assert.Equal(new long[] { 8, 8, 8, 8 }, y.shape);             // conv2d_1 + batch_normalization_1 + max_pooling2d
        }

        var z = x.detach().requires_grad_(true);
        withGradients = model.ForwardStage(2, logits: false, ref z);  // eval mode with gradients: the layers one by one
        z.sum().backward();

        Assert.Equal(3, withoutGradients);
        Assert.Equal(1, withGradients);
    }

    /// <summary>Five training steps of the notebook model (size x size x 3, batch 32) and the loss of each.</summary>
    private static float[] TrainLosses(ExecutionPolicy policy, NormalizationVariant variant, int size)
    {
        using var scope = NewDisposeScope();
        manual_seed(21);
        using var model = ModelPresets.Notebook(new ImageShape(size, size, 3), variant: variant).Apply(policy);
        model.Compile(new Adam());
        manual_seed(22);
        var images = rand(32, 3, size, size);
        var labels = randint(0, 10, [32]);
        var losses = new float[5];
        for (int step = 0; step < losses.Length; step++)
        {
            losses[step] = (float)model.TrainOnBatch(images, labels).Loss;
        }

        return losses;
    }

    /// <summary>|actual - expected| &lt;= tolerance * max|expected| everywhere (relative to the tensor's scale).</summary>
    private static void CloseRelative(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        double difference = (actual.to(ScalarType.Float64) - expected).abs().max().item<double>();
        double scale = Math.Max(expected.abs().max().item<double>(), 1e-30);
        Assert.True(difference <= tolerance * scale, $"max difference {difference}, scale {scale}, relative {difference / scale:E2}");
    }
}
