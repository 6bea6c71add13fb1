using static TorchSharp.torch;

namespace CifarBatchNorm.Callbacks;

/// <summary>
/// What a callback has learnt during a run (counters, best values, saved weights), written into a run's checkpoint so
/// that a resumed run continues exactly as the uninterrupted one would (see <see cref="Callback.SaveState"/>).
/// </summary>
public sealed class CallbackState
{
    /// <summary>Numbers by name (infinities and NaN allowed).</summary>
    public IDictionary<string, double> Values { get; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>Tensors by name (for example the best weights of <see cref="EarlyStopping"/>); the state owns them.</summary>
    public IDictionary<string, Tensor> Tensors { get; } = new Dictionary<string, Tensor>(StringComparer.Ordinal);

    /// <summary>The number <paramref name="name"/>.</summary>
    /// <exception cref="InvalidDataException">The state has no such number.</exception>
    public double Get(string name) =>
        Values.TryGetValue(name, out double value) ? value : throw new InvalidDataException($"callback state has no '{name}'.");
}
