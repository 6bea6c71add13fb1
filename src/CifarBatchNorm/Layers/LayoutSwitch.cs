using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Copies an NCHW image batch into channels-last strides and sends its gradient back NCHW-contiguous, the layout of
/// the input. A plain copy sends the gradient back channels-last, and libtorch's batch-norm backward takes its slow
/// generic path (a serial loop per channel) when the gradient's layout differs from its input's.
/// </summary>
internal static class LayoutSwitch
{
    /// <summary>The same (B, C, H, W) tensor with channels-last strides; the gradient comes back NCHW-contiguous.</summary>
    public static Tensor ToChannelsLast(Tensor input) => ChannelsLastCopy.apply(input);

    /// <summary>A channels-last copy with the same (B, C, H, W) shape; plain autograd (the gradient comes back channels-last).</summary>
    internal static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    private sealed class ChannelsLastCopy : autograd.SingleTensorFunction<ChannelsLastCopy>
    {
        public override string Name => nameof(ChannelsLastCopy);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ChannelsLast((Tensor)vars[0]);

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => [grad_output.contiguous()];
    }
}
