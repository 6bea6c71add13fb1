using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Training-mode batch normalization fused with the ReLU before it (the notebook's Conv2D(relu) then
/// BatchNormalization) or after it (the bn-before-relu variant), as one custom autograd function whose forward and
/// backward are the vectorized C# loops of <see cref="FusedNormKernels"/>: forward reads the input twice and writes
/// the output once, backward reads the gradient and the input twice and writes the input gradient once, where
/// libtorch runs ReLU and batch norm as separate passes. Opt-in through <c>ExecutionPolicy.FusedKernels</c>.
/// </summary>
/// <remarks>
/// Float32 on the CPU, in the layouts the notebook model trains with: contiguous NCHW, channels-last (NHWC strides)
/// and (N, C) after Dense. The statistics are the batch mean and the biased batch variance (as Keras and the unfused
/// layer normalize with), summed in double. Only the input is kept for the backward pass (the unfused pair keeps the
/// ReLU output instead, the same size).
/// </remarks>
internal static class FusedBatchNorm
{
    /// <summary>Whether <paramref name="x"/> (4-D images or 2-D features) is in a layout and type the fused kernels take.</summary>
    public static bool Supports(Tensor x) =>
        x.device_type == TorchSharp.DeviceType.CPU && x.dtype == ScalarType.Float32 && x.numel() * sizeof(float) <= int.MaxValue
        && ((x.dim() == 2 && x.is_contiguous()) || (x.dim() == 4 && (x.is_contiguous() || IsChannelsLast(x))));

    /// <summary>
    /// <c>relu?(bn(relu?(x)))</c> with batch statistics; returns the output and each channel's batch mean and biased
    /// batch variance (for the moving statistics).
    /// </summary>
    /// <param name="x">(N, C, H, W) or (N, C) float32 on the CPU, a layout <see cref="Supports"/> accepts.</param>
    /// <param name="gamma">(C) scale.</param>
    /// <param name="beta">(C) offset.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="reluBefore">Apply ReLU to the input first (ReLU then BN).</param>
    /// <param name="reluAfter">Apply ReLU to the output (BN then ReLU).</param>
    public static (Tensor Output, double[] Mean, double[] Variance) Forward(Tensor x, Tensor gamma, Tensor beta, double epsilon, bool reluBefore, bool reluAfter)
    {
        if (!Supports(x))
        {
            throw new ArgumentException($"The fused batch norm takes float32 CPU tensors, 4-D NCHW or channels-last or 2-D contiguous; got {x.dtype} {x.device} [{string.Join(", ", x.shape)}].", nameof(x));
        }

        var settings = new Settings(epsilon, reluBefore, reluAfter);
        var output = Function.apply(x, gamma, beta, settings);
        return (output, settings.Mean!, settings.Variance!);
    }

    internal static bool IsChannelsLast(Tensor x)
    {
        using var nhwc = x.permute(0, 2, 3, 1);
        return nhwc.is_contiguous();
    }

    /// <summary>How a tensor's memory is walked: <c>(channels, plane)</c> for <see cref="FusedNormKernels"/>, and the contiguous view whose bytes are that memory.</summary>
    internal static (int Channels, int Plane, Tensor View) Layout(Tensor x)
    {
        int channels = (int)x.shape[1];
        if (x.dim() == 2)
        {
            return (channels, 1, x.alias());
        }

        return x.is_contiguous() ? (channels, (int)(x.shape[2] * x.shape[3]), x.alias()) : (channels, 1, x.permute(0, 2, 3, 1));
    }

    /// <summary>A new tensor shaped and laid out like <paramref name="x"/>, with the contiguous view to write it through.</summary>
    internal static (Tensor Result, Tensor View) EmptyLike(Tensor x, int plane)
    {
        if (x.dim() == 4 && plane == 1)
        {
            var nhwc = empty([x.shape[0], x.shape[2], x.shape[3], x.shape[1]], ScalarType.Float32);
            return (nhwc.permute(0, 3, 1, 2), nhwc);
        }

        var result = empty(x.shape, ScalarType.Float32);
        return (result, result.alias());
    }

    /// <summary>Fewer floats than this per block are not worth a thread.</summary>
    private const int MinBlockFloats = 1 << 15;

    /// <summary>At most this many blocks.</summary>
    private const int MaxBlocks = 8;

    /// <summary>
    /// Whether the blocks run on the thread pool (with as many threads as libtorch's intra-op threads) or one after
    /// another (the default: libgomp's workers spin on the other cores for a while after each libtorch kernel, and
    /// the gain could not be measured on the shared machine; <c>bench --profile</c> times both). Either way the blocks
    /// and the order their sums are added in are the same, so are the results.
    /// </summary>
    internal static bool Threaded { get; set; }

    /// <summary>
    /// The blocks (start, length in floats) the passes are split into: whole groups of <paramref name="group"/> floats
    /// (a sample's planes in NCHW, a pixel's channels otherwise), their number fixed by the size alone, so the partial
    /// sums and the order they are added in do not depend on the thread count.
    /// </summary>
    internal static (int Start, int Length)[] Blocks(int length, int group)
    {
        int groups = length / group;
        int count = Math.Min(Math.Clamp(length / MinBlockFloats, 1, MaxBlocks), groups);
        var blocks = new (int Start, int Length)[count];
        for (int b = 0; b < count; b++)
        {
            int first = (int)((long)groups * b / count), end = (int)((long)groups * (b + 1) / count);
            blocks[b] = (first * group, (end - first) * group);
        }

        return blocks;
    }

    /// <summary>
    /// Passes over fewer floats than this run on one thread even when <see cref="Threaded"/>: waking a pool thread
    /// costs more than it saves there (the Dense layer's 256 x 256 batch norm took 0.39 ms threaded, 0.19 ms not).
    /// </summary>
    internal static int MinThreadedFloats { get; set; } = 1 << 18;

    /// <summary>Runs <paramref name="body"/> for each block, on the thread pool where <see cref="Threaded"/> and the pass is large enough.</summary>
    internal static void ForEachBlock((int Start, int Length)[] blocks, Action<int> body)
    {
        int count = blocks.Length;
        int threads = get_num_threads();
        if (count == 1 || threads == 1 || !Threaded || blocks[^1].Start + blocks[^1].Length < MinThreadedFloats)
        {
            for (int b = 0; b < count; b++)
            {
                body(b);
            }

            return;
        }

        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }

    /// <summary>The blocks' per-channel sums added up in block order.</summary>
    internal static double[] Merge(double[][] partial)
    {
        var total = (double[])partial[0].Clone();
        for (int b = 1; b < partial.Length; b++)
        {
            for (int c = 0; c < total.Length; c++)
            {
                total[c] += partial[b][c];
            }
        }

        return total;
    }

    internal static Span<float> Floats(Tensor contiguous) => MemoryMarshal.Cast<byte, float>(contiguous.bytes);

    internal static float[] Values(Tensor vector)
    {
        using var cpu = vector.detach().to(ScalarType.Float32).contiguous();
        return cpu.data<float>().ToArray();
    }

    /// <summary>
    /// The forward's first pass: each channel's batch mean and biased variance of <c>relu?(x)</c> (summed in double,
    /// in blocks fixed by the size), and from them the per-channel <c>scale</c> and <c>shift</c>, into <paramref name="settings"/>.
    /// </summary>
    /// <param name="input">The contiguous view of the input's memory (<see cref="Layout"/>).</param>
    /// <param name="channels">Channels.</param>
    /// <param name="plane">Values per (sample, channel) plane in NCHW, 1 when the channels are interleaved.</param>
    /// <param name="gamma">(C) scale.</param>
    /// <param name="beta">(C) offset.</param>
    /// <param name="settings">The function's options; receives the statistics.</param>
    internal static void BatchStatistics(Tensor input, int channels, int plane, float[] gamma, float[] beta, Settings settings)
    {
        long count = input.numel() / channels;                              // values per channel: N (x H x W)
        var blocks = Blocks((int)input.numel(), channels * plane);
        var sums = new double[blocks.Length][];
        var squareSums = new double[blocks.Length][];
        ForEachBlock(blocks, b =>
        {
            sums[b] = new double[channels];
            squareSums[b] = new double[channels];
            FusedNormKernels.Statistics(Floats(input).Slice(blocks[b].Start, blocks[b].Length), channels, plane, settings.ReluBefore, sums[b], squareSums[b]);
        });
        var sum = Merge(sums);
        var squares = Merge(squareSums);
        var mean = new double[channels];
        var variance = new double[channels];
        var inverseStd = new double[channels];
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            mean[c] = sum[c] / count;
            variance[c] = Math.Max(squares[c] / count - mean[c] * mean[c], 0);
            inverseStd[c] = 1 / Math.Sqrt(variance[c] + settings.Epsilon);
            scale[c] = (float)(gamma[c] * inverseStd[c]);
            shift[c] = (float)(beta[c] - mean[c] * gamma[c] * inverseStd[c]);
        }

        settings.Mean = mean;
        settings.Variance = variance;
        settings.InverseStd = inverseStd;
        settings.Scale = scale;
        settings.Shift = shift;
    }

    /// <summary>
    /// The backward's per-channel results from the two gradient sums: <c>dgamma</c>, <c>dbeta</c>, and the <c>k1</c>,
    /// <c>k0</c> of the input gradient <c>dx = scale * g + k1 * a + k0</c>.
    /// </summary>
    /// <param name="sumGrad">Each channel's sum of the (masked) output gradient <c>g</c>.</param>
    /// <param name="sumGradInput">Each channel's sum of <c>g * a</c>.</param>
    /// <param name="count">Values per channel: N (x H x W).</param>
    /// <param name="settings">The statistics of the forward pass.</param>
    internal static (float[] GammaGrad, float[] BetaGrad, float[] K1, float[] K0) GradientCoefficients(double[] sumGrad, double[] sumGradInput, long count, Settings settings)
    {
        int channels = sumGrad.Length;
        var gammaGrad = new float[channels];
        var betaGrad = new float[channels];
        var k1 = new float[channels];
        var k0 = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double mean = settings.Mean![c], inverseStd = settings.InverseStd![c], scale = settings.Scale![c];
            double dgamma = (sumGradInput[c] - mean * sumGrad[c]) * inverseStd;   // sum of g * xhat
            gammaGrad[c] = (float)dgamma;
            betaGrad[c] = (float)sumGrad[c];
            double slope = -scale * inverseStd * dgamma / count;
            k1[c] = (float)slope;
            k0[c] = (float)(-scale * sumGrad[c] / count - slope * mean);
        }

        return (gammaGrad, betaGrad, k1, k0);
    }

    /// <summary>
    /// Inference: <c>relu?(relu?(x) * scale + shift)</c> in one pass over memory, with the per-channel scale and shift
    /// the layer computes from its moving statistics; no autograd (the caller runs without gradients).
    /// </summary>
    /// <param name="x">(N, C, H, W) or (N, C) float32 on the CPU, a layout <see cref="Supports"/> accepts.</param>
    /// <param name="scale">(C) <c>gamma / sqrt(moving variance + epsilon)</c>.</param>
    /// <param name="shift">(C) <c>beta - moving mean * scale</c>.</param>
    /// <param name="reluBefore">Apply ReLU to the input first.</param>
    /// <param name="reluAfter">Apply ReLU to the output.</param>
    public static Tensor Inference(Tensor x, float[] scale, float[] shift, bool reluBefore, bool reluAfter)
    {
        var (channels, plane, view) = Layout(x);
        using var input = view;
        return NormalizePass(x, input, channels, plane, reluBefore, reluAfter, scale, shift);
    }

    /// <summary>The pass that writes <c>relu?(relu?(x) * scale + shift)</c> into a new tensor laid out like <paramref name="x"/>.</summary>
    private static Tensor NormalizePass(Tensor x, Tensor input, int channels, int plane, bool reluBefore, bool reluAfter, float[] scale, float[] shift)
    {
        var blocks = Blocks((int)x.numel(), channels * plane);
        var (output, outputView) = EmptyLike(x, plane);
        using (outputView)
        {
            ForEachBlock(blocks, b =>
            {
                var (start, length) = blocks[b];
                FusedNormKernels.Normalize(Floats(input).Slice(start, length), Floats(outputView).Slice(start, length), channels, plane,
                    reluBefore, reluAfter, scale, shift);
            });
        }

        return output;
    }

    /// <summary>The function's options, and what its forward hands back (the batch statistics) and keeps for backward.</summary>
    internal sealed class Settings(double epsilon, bool reluBefore, bool reluAfter)
    {
        public double Epsilon { get; } = epsilon;

        public bool ReluBefore { get; } = reluBefore;

        public bool ReluAfter { get; } = reluAfter;

        public double[]? Mean { get; set; }

        public double[]? Variance { get; set; }

        public double[]? InverseStd { get; set; }

        public float[]? Scale { get; set; }

        public float[]? Shift { get; set; }
    }

    private sealed class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => "FusedReluBatchNorm";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            var gamma = Values((Tensor)vars[1]);
            var beta = Values((Tensor)vars[2]);
            var settings = (Settings)vars[3];
            var (channels, plane, view) = Layout(x);
            using var input = view;
            BatchStatistics(input, channels, plane, gamma, beta, settings);
            var output = NormalizePass(x, input, channels, plane, settings.ReluBefore, settings.ReluAfter, settings.Scale!, settings.Shift!);
            ctx.save_for_backward([x]);
            ctx.save_data("settings", settings);
            return output;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            var x = ctx.get_saved_variables()[0];
            var settings = (Settings)ctx.get_data("settings");
            var (channels, plane, view) = Layout(x);
            using var input = view;
            // The gradient in the input's layout (it usually is already; a copy otherwise).
            using var grad = plane == 1 && x.dim() == 4 ? grad_output.permute(0, 2, 3, 1).contiguous() : grad_output.contiguous();
            long count = x.numel() / channels;
            var blocks = Blocks((int)x.numel(), channels * plane);
            var gradSums = new double[blocks.Length][];
            var productSums = new double[blocks.Length][];
            ForEachBlock(blocks, b =>
            {
                var (start, length) = blocks[b];
                gradSums[b] = new double[channels];
                productSums[b] = new double[channels];
                FusedNormKernels.GradientSums(Floats(grad).Slice(start, length), Floats(input).Slice(start, length), channels, plane,
                    settings.ReluBefore, settings.ReluAfter, settings.Scale, settings.Shift, gradSums[b], productSums[b]);
            });
            var (gammaGrad, betaGrad, k1, k0) = GradientCoefficients(Merge(gradSums), Merge(productSums), count, settings);
            var (inputGrad, inputGradView) = EmptyLike(x, plane);
            using (inputGradView)
            {
                ForEachBlock(blocks, b =>
                {
                    var (start, length) = blocks[b];
                    FusedNormKernels.InputGradient(Floats(grad).Slice(start, length), Floats(input).Slice(start, length), Floats(inputGradView).Slice(start, length),
                        channels, plane, settings.ReluBefore, settings.ReluAfter, settings.Scale, settings.Shift, k1, k0);
                });
            }

            return [inputGrad, tensor(gammaGrad), tensor(betaGrad), null!];
        }
    }
}
