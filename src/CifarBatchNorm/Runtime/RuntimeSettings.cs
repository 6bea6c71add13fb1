namespace CifarBatchNorm.Runtime;

/// <summary>The runtime settings that <see cref="TorchRuntime.Initialize"/> put in force.</summary>
/// <param name="OneDnnMaxIsa">The oneDNN instruction-set cap (<c>AVX2</c> unless the user set another).</param>
/// <param name="AllocatorTuned">Whether glibc keeps freed buffers in the process.</param>
/// <param name="Threads">Intra-op thread count.</param>
public sealed record RuntimeSettings(string OneDnnMaxIsa, bool AllocatorTuned, int Threads);
