namespace CifarBatchNorm.Runtime;

/// <summary>The runtime settings that <see cref="TorchRuntime.Initialize"/> put in force.</summary>
/// <param name="OneDnnMaxIsa">The oneDNN instruction-set cap (<c>AVX2</c> unless the user set another).</param>
/// <param name="Allocator">The native allocator in use.</param>
/// <param name="OmpWaitPolicy">
/// What idle OpenMP workers do: <c>PASSIVE</c> (sleep at once; chosen when other processes keep the cores busy at
/// start-up), <see cref="TorchRuntime.SpinThenSleep"/>, or the user's <c>OMP_WAIT_POLICY</c>.
/// </param>
/// <param name="Threads">Intra-op thread count.</param>
public sealed record RuntimeSettings(string OneDnnMaxIsa, NativeAllocator Allocator, string OmpWaitPolicy, int Threads)
{
    /// <summary>One line for a log: threads, OpenMP wait policy, oneDNN cap and allocator.</summary>
    public override string ToString() => $"{Threads} threads, OpenMP wait {OmpWaitPolicy}, oneDNN {OneDnnMaxIsa}, allocator {AllocatorName}";

    /// <summary>The allocator as <c>config.json</c> and the banner name it.</summary>
    public string AllocatorName => System.Text.Json.JsonSerializer.Serialize(Allocator).Trim('"');
}
