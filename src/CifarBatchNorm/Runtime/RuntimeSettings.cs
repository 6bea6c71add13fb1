namespace CifarBatchNorm.Runtime;

/// <summary>The runtime settings that <see cref="TorchRuntime.Initialize"/> put in force.</summary>
/// <param name="OneDnnMaxIsa">
/// The oneDNN instruction-set cap: <c>AVX2</c>, or <c>ALL</c> when the entry point asked for oneDNN's AVX-512 kernels
/// (<see cref="TorchRuntime.Initialize"/>), or what the user set.
/// </param>
/// <param name="Allocator">The native allocator in use.</param>
/// <param name="OmpWaitPolicy">
/// What idle OpenMP workers do: <c>PASSIVE</c> (sleep at once; chosen when other processes keep the cores busy at
/// start-up), <see cref="TorchRuntime.SpinThenSleep"/>, or the user's <c>OMP_WAIT_POLICY</c>.
/// </param>
/// <param name="Threads">Intra-op thread count.</param>
/// <param name="ThreadedKernels">
/// Whether the fused C# kernels split their passes across the intra-op threads (<see cref="TorchRuntime.Initialize"/>'s
/// <c>threadedKernels</c>); the OpenMP workers then spin briefly (<see cref="OmpWaitPolicy"/>).
/// </param>
public sealed record RuntimeSettings(string OneDnnMaxIsa, NativeAllocator Allocator, string OmpWaitPolicy, int Threads, bool ThreadedKernels = false)
{
    /// <summary>
    /// Whether oneDNN may run its AVX-512 convolution kernels: the cap allows them and the CPU has AVX-512. Those
    /// kernels compute wrong or NaN input gradients for NCHW convolutions with 8 output channels and right ones
    /// channels-last, so every convolution then runs channels-last on the CPU
    /// (<see cref="Layers.LayoutPolicy.ChannelsLastConvolutions"/>; <c>RunSession</c> and <c>Sequential</c> see to it).
    /// </summary>
    public bool OneDnnAvx512 => TorchRuntime.AllowsAvx512(OneDnnMaxIsa) && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;

    /// <summary>One line for a log: threads, OpenMP wait policy, oneDNN cap, allocator, and whether the fused kernels are threaded.</summary>
    public override string ToString() =>
        $"{Threads} threads, OpenMP wait {OmpWaitPolicy}, oneDNN {OneDnnMaxIsa}{(OneDnnAvx512 ? " (AVX-512, convolutions channels-last)" : "")}, allocator {AllocatorName}"
        + (ThreadedKernels ? $", fused kernels on {Threads} threads" : "");

    /// <summary>The allocator as <c>config.json</c> and the banner name it.</summary>
    public string AllocatorName => System.Text.Json.JsonSerializer.Serialize(Allocator).Trim('"');
}
