using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Training-mode ReLU + batch normalization (either order, as <see cref="FusedBatchNorm"/>) fused with the 2x2,
/// stride-2 max pooling after it, as one custom autograd function over channels-last images: forward reads the input
/// twice (statistics, then each window) and writes only the pooled output, without the full-size batch-norm output or
/// the pooling indices; backward reads the input twice more, recomputing each window and its winner, and writes the
/// input gradient once, without the full-size gradient between the pooling and the batch norm.
/// </summary>
/// <remarks>
/// Float32 on the CPU, 4-D channels-last (NHWC strides) with even height and width (<see cref="Supports"/>); the
/// loops are <see cref="FusedNormKernels"/>' pooling ones. The statistics are those of <see cref="FusedBatchNorm"/>
/// (the same pass over the same blocks), so the pooled output is bit for bit the pool of its output; the winner of a
/// window is libtorch's <c>max_pool2d</c>'s (the first maximum in scan order, NaN propagates). Only the input is kept
/// for the backward pass.
/// </remarks>
internal static class FusedBatchNormPool
{
    /// <summary>Whether <paramref name="x"/> is a non-empty float32 CPU (N, C, H, W) tensor with NHWC strides and even H and W.</summary>
    public static bool Supports(Tensor x) =>
        FusedBatchNorm.Supports(x) && x.dim() == 4 && !x.is_contiguous() && x.numel() > 0 && x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0;

    /// <summary>
    /// <c>max_pool2d(relu?(bn(relu?(x))), 2)</c> with batch statistics; returns the (N, C, H/2, W/2) channels-last
    /// output and each channel's batch mean and biased batch variance (for the moving statistics).
    /// </summary>
    /// <param name="x">(N, C, H, W) float32 on the CPU, channels-last, H and W even (<see cref="Supports"/>).</param>
    /// <param name="gamma">(C) scale.</param>
    /// <param name="beta">(C) offset.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="reluBefore">Apply ReLU to the input first (ReLU then BN).</param>
    /// <param name="reluAfter">Apply ReLU to the normalized values (BN then ReLU).</param>
    public static (Tensor Output, double[] Mean, double[] Variance) Forward(Tensor x, Tensor gamma, Tensor beta, double epsilon, bool reluBefore, bool reluAfter)
    {
        if (!Supports(x))
        {
            throw new ArgumentException(
                $"The fused batch norm + pooling takes float32 CPU channels-last 4-D tensors with even height and width; got {x.dtype} {x.device} [{string.Join(", ", x.shape)}].",
                nameof(x));
        }

        var settings = new FusedBatchNorm.Settings(epsilon, reluBefore, reluAfter);
        var output = Function.apply(x, gamma, beta, settings);
        return (output, settings.Mean!, settings.Variance!);
    }

    /// <summary>The blocks of the pooling passes: whole output rows (2 x W x C input floats each), fixed by the size as in <see cref="FusedBatchNorm"/>.</summary>
    /// <summary>
    /// Inference: the 2x2 maxima of <c>relu?(relu?(x) * scale + shift)</c> in one pass over memory, with the per-channel
    /// scale and shift the layer computes from its moving statistics; no autograd (the caller runs without gradients).
    /// </summary>
    /// <param name="x">(N, C, H, W) channels-last float32 on the CPU with even H and W (<see cref="Supports"/>).</param>
    /// <param name="scale">(C) <c>gamma / sqrt(moving variance + epsilon)</c>.</param>
    /// <param name="shift">(C) <c>beta - moving mean * scale</c>.</param>
    /// <param name="reluBefore">Apply ReLU to the input first.</param>
    /// <param name="reluAfter">Apply ReLU to the normalized value.</param>
    public static Tensor Inference(Tensor x, float[] scale, float[] shift, bool reluBefore, bool reluAfter)
    {
        var (channels, _, view) = FusedBatchNorm.Layout(x);
        using var input = view;
        return NormalizePoolPass(x, input, channels, reluBefore, reluAfter, scale, shift);
    }

    /// <summary>The pass that writes the window maxima, (N, C, H/2, W/2) channels-last.</summary>
    private static Tensor NormalizePoolPass(Tensor x, Tensor input, int channels, bool reluBefore, bool reluAfter, float[] scale, float[] shift)
    {
        int width = (int)x.shape[3];
        using var pooled = empty([x.shape[0], x.shape[2] / 2, width / 2, channels], ScalarType.Float32);   // (N, H/2, W/2, C)
        var blocks = RowBlocks(x);
        FusedBatchNorm.ForEachBlock(blocks, b =>
        {
            var (start, length) = blocks[b];
            FusedNormKernels.NormalizePool(FusedBatchNorm.Floats(input).Slice(start, length), FusedBatchNorm.Floats(pooled).Slice(start / 4, length / 4),
                channels, width, reluBefore, reluAfter, scale, shift);
        });
        return pooled.permute(0, 3, 1, 2);
    }

    private static (int Start, int Length)[] RowBlocks(Tensor x) => FusedBatchNorm.Blocks((int)x.numel(), (int)(2 * x.shape[3] * x.shape[1]));

    private sealed class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => "FusedReluBatchNormMaxPool";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            var gamma = FusedBatchNorm.Values((Tensor)vars[1]);
            var beta = FusedBatchNorm.Values((Tensor)vars[2]);
            var settings = (FusedBatchNorm.Settings)vars[3];
            var (channels, _, view) = FusedBatchNorm.Layout(x);             // (N, H, W, C)
            using var input = view;
            FusedBatchNorm.BatchStatistics(input, channels, 1, gamma, beta, settings);
            var pooled = NormalizePoolPass(x, input, channels, settings.ReluBefore, settings.ReluAfter, settings.Scale!, settings.Shift!);
            ctx.save_for_backward([x]);
            ctx.save_data("settings", settings);
            return pooled;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            var x = ctx.get_saved_variables()[0];
            var settings = (FusedBatchNorm.Settings)ctx.get_data("settings");
            var (channels, _, view) = FusedBatchNorm.Layout(x);
            using var input = view;
            // The pooled gradient channels-last (it usually is already; a copy otherwise).
            using var grad = grad_output.permute(0, 2, 3, 1).contiguous();
            int width = (int)x.shape[3];
            var blocks = RowBlocks(x);
            var gradSums = new double[blocks.Length][];
            var productSums = new double[blocks.Length][];
            FusedBatchNorm.ForEachBlock(blocks, b =>
            {
                var (start, length) = blocks[b];
                gradSums[b] = new double[channels];
                productSums[b] = new double[channels];
                FusedNormKernels.PoolGradientSums(FusedBatchNorm.Floats(grad).Slice(start / 4, length / 4), FusedBatchNorm.Floats(input).Slice(start, length),
                    channels, width, settings.ReluBefore, settings.ReluAfter, settings.Scale, settings.Shift, gradSums[b], productSums[b]);
            });
            var (gammaGrad, betaGrad, k1, k0) = FusedBatchNorm.GradientCoefficients(
                FusedBatchNorm.Merge(gradSums), FusedBatchNorm.Merge(productSums), x.numel() / channels, settings);
            var (inputGrad, inputGradView) = FusedBatchNorm.EmptyLike(x, 1);
            using (inputGradView)
            {
                FusedBatchNorm.ForEachBlock(blocks, b =>
                {
                    var (start, length) = blocks[b];
                    FusedNormKernels.PoolInputGradient(FusedBatchNorm.Floats(grad).Slice(start / 4, length / 4), FusedBatchNorm.Floats(input).Slice(start, length),
                        FusedBatchNorm.Floats(inputGradView).Slice(start, length), channels, width, settings.ReluBefore, settings.ReluAfter,
                        settings.Scale, settings.Shift, k1, k0);
                });
            }

            return [inputGrad, tensor(gammaGrad), tensor(betaGrad), null!];
        }
    }
}
