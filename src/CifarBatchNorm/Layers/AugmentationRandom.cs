using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// The random numbers of the augmentation layers: uniform draws on the CPU from the layer's own generator when it
/// was given a seed, else from torch's default generator (so <c>torch.manual_seed</c> fixes them and a resumed run,
/// which restores that generator, continues the same sequence). Drawing on the CPU gives the same numbers whatever
/// device the model runs on.
/// </summary>
internal sealed class AugmentationRandom : IDisposable
{
    private readonly Generator? _generator;

    public AugmentationRandom(int? seed)
    {
        Seed = seed;
        _generator = seed is int s ? new Generator(unchecked((ulong)s)) : null;
    }

    /// <summary>The layer's seed; <c>null</c> when it draws from torch's default generator.</summary>
    public int? Seed { get; }

    /// <summary><paramref name="count"/> draws of U[0, 1) as float32 on the CPU.</summary>
    public Tensor Uniform(long count) => rand([count], ScalarType.Float32, generator: _generator);

    public void Dispose() => _generator?.Dispose();
}
