using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Layers;

/// <summary>
/// The fused ReLU + batch norm + 2x2 max pooling (<c>FusedBatchNormPool</c>) against float64 oracles: libtorch's
/// autograd of relu/batch_norm/relu/max_pool2d in float64 on the same data; the two-stage fused path (bit for bit
/// forward); libtorch's tie rule; which stages the model fuses, and where it falls back to two stages.
/// </summary>
public sealed class FusedBatchNormPoolTests
{
    public static TheoryData<int, int, bool> Shapes => new()
    {
        { 8, 12, true },   // the notebook's first pooling: one Vector256 per pixel
        { 16, 10, true },  // the second: one Vector512 (or two Vector256) per pixel
        { 3, 6, true },    // scalar channels only
        { 8, 10, false },  // BN then ReLU
        { 16, 8, false },
        { 3, 6, false },
        { 24, 4, true },   // a 16-channel chunk, then an 8-channel one
        { 21, 4, false },  // a 16-channel chunk, then 5 scalar channels
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Pooled_output_and_gradients_match_float64_autograd(int channels, int size, bool reluBefore)
    {
        using var scope = NewDisposeScope();
        manual_seed(channels * 37 + size);
        var data = randn(6, channels, size, size).mul(2).add(0.5);
        var gamma = rand(channels).add(0.5);
        var beta = randn(channels);

        var fused = RunFused(data, gamma, beta, reluBefore, out var upstream);
        var expected = RunFloat64(data, gamma, beta, reluBefore, upstream);

        Assert.Equal(new long[] { 6, channels, size / 2, size / 2 }, fused.Output.shape);
        Assert.Equal(1, fused.Output.stride(1));                       // channels-last
        CloseRelative(expected.Output, fused.Output);
        CloseRelative(expected.InputGrad, fused.InputGrad);
        CloseRelative(expected.GammaGrad, fused.GammaGrad);
        CloseRelative(expected.BetaGrad, fused.BetaGrad);
        CloseRelative(expected.Mean, tensor(fused.Mean));
        CloseRelative(expected.Variance, tensor(fused.Variance));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Ties_send_the_gradient_to_the_first_position_as_libtorch_does(bool reluBefore)
    {
        // Values on a coarse grid: many windows wholly <= 0 (all four equal after ReLU then BN) and many with a repeated
        // value. Window (0, 0) of the first sample holds four equal positive values: only its first position gets the
        // pooled gradient, so its input gradient differs from the other three, which are equal.
        using var scope = NewDisposeScope();
        manual_seed(reluBefore ? 41 : 42);
        const int channels = 8;
        var data = randint(-4, 3, [6, channels, 8, 8]).to(ScalarType.Float32).mul(0.5f);
        data[0, .., 0..2, 0..2] = tensor(1.0f);
        var gamma = rand(channels).add(0.5);
        var beta = rand(channels);

        var fused = RunFused(data, gamma, beta, reluBefore, out var upstream);
        var expected = RunFloat64(data, gamma, beta, reluBefore, upstream);

        CloseRelative(expected.Output, fused.Output);
        CloseRelative(expected.InputGrad, fused.InputGrad);
        CloseRelative(expected.GammaGrad, fused.GammaGrad);
        CloseRelative(expected.BetaGrad, fused.BetaGrad);
        var window = fused.InputGrad[0, .., 0..2, 0..2].reshape(channels, 4);    // positions in scan order
        Assert.True(window[.., 1].eq(window[.., 2]).all().item<bool>() && window[.., 1].eq(window[.., 3]).all().item<bool>());
        Assert.True(window[.., 0].ne(window[.., 1]).all().item<bool>(), "the first position should get the pooled gradient");
        CloseRelative(expected.InputGrad[0, .., 0..2, 0..2].reshape(channels, 4), window);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Pooled_output_is_the_pool_of_the_fused_batch_norm_bit_for_bit(bool reluBefore)
    {
        // Same statistics pass and same per-value operations: only the backward's sums differ (winners only).
        using var scope = NewDisposeScope();
        manual_seed(43);
        var data = ChannelsLast(randn(8, 16, 12, 12));
        var gamma = rand(16).add(0.5);
        var beta = randn(16);
        var upstream = randn(8, 16, 6, 6);
        var x1 = data.clone().requires_grad_(true);
        var x2 = data.clone().requires_grad_(true);

        var (pooled, mean, variance) = FusedBatchNormPool.Forward(x1, gamma, beta, 1e-3, reluBefore, reluAfter: !reluBefore);
        pooled.mul(upstream).sum().backward();
        var (normalized, twoStageMean, twoStageVariance) = FusedBatchNorm.Forward(x2, gamma, beta, 1e-3, reluBefore, reluAfter: !reluBefore);
        var twoStage = nn.functional.max_pool2d(normalized, 2, 2);
        twoStage.mul(upstream).sum().backward();

        Assert.True(pooled.eq(twoStage).all().item<bool>());
        Assert.Equal(twoStageMean, mean);
        Assert.Equal(twoStageVariance, variance);
        CloseRelative(x2.grad!.to(ScalarType.Float64), x1.grad!);
    }

    [Fact]
    public void Threaded_and_serial_loops_give_the_same_bits()
    {
        using var scope = NewDisposeScope();
        manual_seed(44);
        var data = ChannelsLast(randn(64, 8, 24, 24));
        var upstream = randn(64, 8, 12, 12);
        var gamma = rand(8).add(0.5);
        var beta = randn(8);
        (Tensor Output, Tensor Grad, Tensor GammaGrad) Run(bool threaded) => FusedThreading.With(threaded, () =>
        {
            var x = data.clone().requires_grad_(true);
            var g = gamma.clone().requires_grad_(true);
            var (output, _, _) = FusedBatchNormPool.Forward(x, g, beta, 1e-3, reluBefore: true, reluAfter: false);
            output.mul(upstream).sum().backward();
            return (output, x.grad!, g.grad!);
        });

        var serial = Run(threaded: false);
        var threaded = Run(threaded: true);

        Assert.True(serial.Output.eq(threaded.Output).all().item<bool>());
        Assert.True(serial.Grad.eq(threaded.Grad).all().item<bool>());
        Assert.True(serial.GammaGrad.eq(threaded.GammaGrad).all().item<bool>());
    }

    [Fact]
    public void Only_even_channels_last_inputs_under_a_2x2_stride_2_pool_are_fused()
    {
        using var scope = NewDisposeScope();
        var norm = new BatchNormalization();
        norm.Build(new LayerShape(8, 8, 4));
        norm.train(true);
        var pool = new MaxPooling2D(2);
        pool.Build(new LayerShape(8, 8, 4));
        var overlapping = new MaxPooling2D(2, strides: 1);
        overlapping.Build(new LayerShape(8, 8, 4));
        manual_seed(45);

        Assert.False(norm.TryForwardFusedPool(randn(2, 4, 8, 8), pool, reluBefore: true, reluAfter: false, out var nchw));
        Assert.False(norm.TryForwardFusedPool(ChannelsLast(randn(2, 4, 7, 8)), pool, reluBefore: true, reluAfter: false, out _));
        Assert.False(norm.TryForwardFusedPool(ChannelsLast(randn(2, 4, 8, 7)), pool, reluBefore: true, reluAfter: false, out _));
        Assert.False(norm.TryForwardFusedPool(ChannelsLast(randn(2, 4, 8, 8)), overlapping, reluBefore: true, reluAfter: false, out _));
        norm.train(false);
        Assert.False(norm.TryForwardFusedPool(ChannelsLast(randn(2, 4, 8, 8)), pool, reluBefore: true, reluAfter: false, out _));
        norm.train(true);
        Assert.Null(nchw);
        Assert.Equal(0L, BatchesTracked(norm));                         // a refusal leaves the moving statistics alone

        Assert.True(norm.TryForwardFusedPool(ChannelsLast(randn(2, 4, 8, 8)), pool, reluBefore: true, reluAfter: false, out var pooled));
        Assert.Equal(new long[] { 2, 4, 4, 4 }, pooled.shape);
        Assert.Equal(1L, BatchesTracked(norm));
    }

    [Fact]
    public void The_moving_statistics_follow_the_two_stage_path()
    {
        using var scope = NewDisposeScope();
        var pooledNorm = new BatchNormalization(momentum: 0.9);
        var pairNorm = new BatchNormalization(momentum: 0.9);
        var pool = new MaxPooling2D(2);
        foreach (var layer in new Layer[] { pooledNorm, pairNorm, pool })
        {
            layer.Build(new LayerShape(6, 6, 8));
            layer.train(true);
        }

        manual_seed(46);
        for (int step = 0; step < 3; step++)
        {
            var z = ChannelsLast(randn(4, 8, 6, 6).mul(step + 1).add(step));
            Assert.True(pooledNorm.TryForwardFusedPool(z, pool, reluBefore: true, reluAfter: false, out _));
            pairNorm.ForwardFused(z, reluBefore: true, reluAfter: false);
        }

        Assert.True(pairNorm.MovingMean.eq(pooledNorm.MovingMean).all().item<bool>());
        Assert.True(pairNorm.MovingVariance.eq(pooledNorm.MovingVariance).all().item<bool>());
        Assert.Equal(3L, BatchesTracked(pooledNorm));
    }

    public static TheoryData<string, NormalizationVariant, int, string[]> Stages => new()
    {
        {
            "channels-last throughout", NormalizationVariant.Bn, 16,
            ["conv2d+batch_normalization", "conv2d_1+batch_normalization_1+max_pooling2d", "conv2d_2+batch_normalization_2",
                "conv2d_3+batch_normalization_3+max_pooling2d_1", "flatten", "dense+batch_normalization_4", "dense_1"]
        },
        {
            "channels-last throughout", NormalizationVariant.BnBeforeRelu, 16,
            ["conv2d", "batch_normalization+activation", "conv2d_1", "batch_normalization_1+activation_1+max_pooling2d", "conv2d_2",
                "batch_normalization_2+activation_2", "conv2d_3", "batch_normalization_3+activation_3+max_pooling2d_1", "flatten", "dense",
                "batch_normalization_4+activation_4", "dense_1"]
        },
        {
            // The first block trains NCHW: its pooling stays a stage of its own.
            "NCHW first", NormalizationVariant.Bn, 16,
            ["conv2d+batch_normalization", "conv2d_1+batch_normalization_1", "max_pooling2d", "conv2d_2+batch_normalization_2",
                "conv2d_3+batch_normalization_3+max_pooling2d_1", "flatten", "dense+batch_normalization_4", "dense_1"]
        },
        {
            // 14x14: the second pooling's input is 7x7 (odd): two stages there.
            "channels-last throughout", NormalizationVariant.Bn, 14,
            ["conv2d+batch_normalization", "conv2d_1+batch_normalization_1+max_pooling2d", "conv2d_2+batch_normalization_2",
                "conv2d_3+batch_normalization_3", "max_pooling2d_1", "flatten", "dense+batch_normalization_4", "dense_1"]
        },
    };

    [Theory]
    [MemberData(nameof(Stages))]
    public void A_fused_pair_takes_the_pooling_after_it_into_its_stage_where_the_kernels_apply(string layout, NormalizationVariant variant, int size, string[] expected)
    {
        using var scope = NewDisposeScope();
        var policy = layout == "NCHW first" ? ExecutionPolicy.Cpu with { FusedKernels = true } : ExecutionPolicy.Cpu.WithFusedKernels();
        using var model = ModelPresets.Notebook(new ImageShape(size, size, 3), variant: variant).Apply(policy);
        model.train(true);

        Assert.Equal(expected, StageNames(model, rand(4, 3, size, size)));
        model.train(false);
        Assert.Equal(model.Layers.Select(l => l.Name!), StageNames(model, rand(4, 3, size, size)));
    }

    /// <summary>The stages <c>Sequential.ForwardStage</c> runs, named as <c>bench --profile</c> names them.</summary>
    private static List<string> StageNames(Sequential model, Tensor x)
    {
        var names = new List<string>();
        for (int i = 0; i < model.Layers.Count;)
        {
            int used = model.ForwardStage(i, logits: true, ref x);
            names.Add(string.Join('+', model.Layers.Skip(i).Take(used).Select(l => l.Name)));
            i += used;
        }

        return names;
    }

    private static long BatchesTracked(BatchNormalization norm) =>
        norm.Normalization.named_buffers().Single(b => b.name == "num_batches_tracked").buffer.item<long>();

    private static Tensor ChannelsLast(Tensor nchw) => nchw.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    private sealed record Result(Tensor Output, Tensor InputGrad, Tensor GammaGrad, Tensor BetaGrad, double[] Mean, double[] Variance);

    private sealed record Oracle(Tensor Output, Tensor InputGrad, Tensor GammaGrad, Tensor BetaGrad, Tensor Mean, Tensor Variance);

    /// <summary>The fused function on a channels-last copy of <paramref name="data"/>, backward with a random pooled gradient.</summary>
    private static Result RunFused(Tensor data, Tensor gamma, Tensor beta, bool reluBefore, out Tensor upstream)
    {
        var x = ChannelsLast(data).requires_grad_(true);
        var g = gamma.clone().requires_grad_(true);
        var b = beta.clone().requires_grad_(true);
        var (output, mean, variance) = FusedBatchNormPool.Forward(x, g, b, 1e-3, reluBefore, reluAfter: !reluBefore);
        upstream = randn_like(output);
        output.mul(upstream).sum().backward();
        return new Result(output, x.grad!, g.grad!, b.grad!, mean, variance);
    }

    /// <summary>libtorch's relu/batch_norm/relu/max_pool2d and its autograd, in float64 (NCHW).</summary>
    private static Oracle RunFloat64(Tensor data, Tensor gamma, Tensor beta, bool reluBefore, Tensor upstream)
    {
        var x64 = data.to(ScalarType.Float64).requires_grad_(true);
        var g64 = gamma.to(ScalarType.Float64).requires_grad_(true);
        var b64 = beta.to(ScalarType.Float64).requires_grad_(true);
        var a64 = reluBefore ? nn.functional.relu(x64) : x64;
        var normalized = nn.functional.batch_norm(a64, null, null, g64, b64, training: true, eps: 1e-3);
        var pooled = nn.functional.max_pool2d(reluBefore ? normalized : nn.functional.relu(normalized), 2, 2);
        pooled.mul(upstream.to(ScalarType.Float64)).sum().backward();
        using var noGrad = no_grad();
        return new Oracle(pooled.detach(), x64.grad!, g64.grad!, b64.grad!, a64.mean([0, 2, 3]), a64.var([0, 2, 3], unbiased: false));
    }

    /// <summary>|actual - expected| &lt;= tolerance * max|expected| everywhere (relative to the tensor's scale).</summary>
    private static void CloseRelative(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        double difference = (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();
        double scale = Math.Max(expected.abs().max().item<double>(), 1e-30);
        Assert.True(difference <= tolerance * scale, $"max difference {difference}, scale {scale}, relative {difference / scale:E2}");
    }
}
