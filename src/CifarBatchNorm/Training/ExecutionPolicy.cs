using CifarBatchNorm.Layers;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// How a model runs, decided once where the program starts (the CLI's <c>Program</c>, or a library user) and never
/// from process state inside a layer or the loop: where the tensors live, which memory layouts the kernels use, how
/// often TorchSharp's finalizable wrappers are collected, and how large evaluation batches are. Immutable; a run
/// prints it in its banner and records it in <c>config.json</c>.
/// </summary>
/// <param name="Device">Where the model and its batches live.</param>
/// <param name="Layout">Memory layouts of the CPU kernels.</param>
/// <param name="CollectEverySteps">
/// A generation-0 collection every this many steps (0: never). TorchSharp's wrapper objects (scalars, shape arrays,
/// tensor handles: about 60 per training step) are finalizable, and a step allocates only about 21 KB of managed
/// memory, so .NET's own first collection came only after tens of epochs and resident memory grew meanwhile.
/// </param>
/// <param name="MinEvaluationBatchSize">Evaluation and prediction run in batches of at least this many samples (inference keeps no activations for backward).</param>
public sealed record ExecutionPolicy(Device Device, LayoutPolicy Layout, int CollectEverySteps, int MinEvaluationBatchSize)
{
    /// <summary>The policy for the CPU: <see cref="LayoutPolicy.FastCpu"/>, a collection every 64 steps, evaluation batches of at least 256.</summary>
    public static ExecutionPolicy Cpu { get; } = new(CPU, LayoutPolicy.FastCpu, 64, 256);

    /// <summary>The policy for <paramref name="device"/>: <see cref="Cpu"/>, or for CUDA NCHW layouts and evaluation batches of at least 1024.</summary>
    public static ExecutionPolicy For(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.type == TorchSharp.DeviceType.CPU ? Cpu : new ExecutionPolicy(device, LayoutPolicy.ChannelsFirst, 64, 1024);
    }

    /// <summary>
    /// Whether the free pages of the C heap go back to the operating system with every collection of the wrappers
    /// (<see cref="CollectEverySteps"/>) and at every epoch's end (glibc's <c>malloc_trim</c>; nothing under jemalloc or
    /// off glibc). The default value is <c>true</c>: on glibc a full CIFAR-10-sized run then peaks at 712-790 MB
    /// instead of 775-837 MB and stays flat (it grew up to 7.3% from epoch 2 to 10), for about 2% longer epochs.
    /// </summary>
    public bool ReleaseNativeMemory { get; init; } = true;

    /// <summary>
    /// Whether training runs ReLU and batch normalization as one fused step on the CPU (<c>Layers.FusedBatchNorm</c>:
    /// vectorized C# forward and backward, statistics summed in double) where a Conv2D or Dense with ReLU is followed
    /// by a BatchNormalization, or a BatchNormalization by a ReLU Activation, with a 2x2 MaxPooling2D after them in the
    /// same step when its input is channels-last and of even size; inference without gradients runs the same stages
    /// in one pass each, with the moving statistics; and Adam updates each parameter in one C# pass. The default value is <c>false</c>: the
    /// fused kernels round differently from libtorch's (same values within float rounding, not the same bits), so a
    /// seed's numbers change with this switch; they are the same run to run with it on. The CLI's <c>--fused-kernels</c>.
    /// </summary>
    public bool FusedKernels { get; init; }

    /// <summary>
    /// This policy with <see cref="FusedKernels"/> on and, on the CPU with <see cref="LayoutPolicy.FastCpu"/>-style layouts
    /// (channels-last after pooling), the whole network trained channels-last
    /// (<see cref="LayoutPolicy.ChannelsLastFromInputTraining"/>): the fused kernels are as fast channels-last as NCHW
    /// with 8 channels, where libtorch's batch norm is 3-4x slower, and the 8-channel convolutions and the first pooling
    /// are faster channels-last (docs/performance.md). What the CLI's <c>--fused-kernels</c> runs.
    /// </summary>
    public ExecutionPolicy WithFusedKernels() =>
        this with
        {
            FusedKernels = true,
            Layout = Device.type == TorchSharp.DeviceType.CPU && Layout.ChannelsLastTraining ? Layout with { ChannelsLastFromInputTraining = true } : Layout,
        };

    /// <summary>
    /// This policy, with every convolution channels-last on the CPU (<see cref="LayoutPolicy.ChannelsLastConvolutions"/>)
    /// when <paramref name="runtime"/> lets oneDNN run its AVX-512 kernels, which are wrong for NCHW convolutions with 8
    /// output channels; otherwise this policy unchanged.
    /// </summary>
    /// <param name="runtime">The runtime settings in force.</param>
    public ExecutionPolicy SafeFor(Runtime.RuntimeSettings runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        return runtime.OneDnnAvx512 && Device.type == TorchSharp.DeviceType.CPU && !Layout.ChannelsLastConvolutions
            ? this with { Layout = Layout with { ChannelsLastConvolutions = true } }
            : this;
    }

    /// <summary>The evaluation batch size for a training batch size of <paramref name="batchSize"/>.</summary>
    public int EvaluationBatchSize(int batchSize) => Math.Max(batchSize, MinEvaluationBatchSize);

    /// <summary>One line for a banner.</summary>
    public override string ToString() =>
        $"device {Device}, layout {(Layout.ChannelsLastFromInputTraining ? "channels-last from the first convolution in training" : Layout.ChannelsLastTraining ? "channels-last after pooling in training" : "NCHW in training")}"
        + $"{(Layout.ChannelsLastInference ? ", channels-last in inference" : "")}{(Layout.ChannelsLastConvolutions ? ", every convolution channels-last" : "")}, GC every {CollectEverySteps} steps"
        + (ReleaseNativeMemory ? ", C heap released with each GC and epoch" : "")
        + (FusedKernels ? ", " + FusedKernelsLabel : "");

    /// <summary>How <see cref="ToString"/> names <see cref="FusedKernels"/> (a resumed run reads it back from its record).</summary>
    internal const string FusedKernelsLabel = "fused ReLU+BN kernels in training";
}
