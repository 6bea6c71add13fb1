using static TorchSharp.torch;

namespace CifarBatchNorm.Callbacks;

/// <summary>A detached copy of a module's parameters and buffers, restorable in place.</summary>
internal sealed class WeightsSnapshot : IDisposable
{
    private readonly Dictionary<string, Tensor> _values;

    private WeightsSnapshot(Dictionary<string, Tensor> values) => _values = values;

    public static WeightsSnapshot Capture(nn.Module module)
    {
        using var noGrad = no_grad();
        var values = module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
        return new WeightsSnapshot(values);
    }

    /// <summary>The values, by state-dict name (owned by the snapshot).</summary>
    public IReadOnlyDictionary<string, Tensor> Values => _values;

    /// <summary>A snapshot of copies of <paramref name="values"/> (a checkpoint's saved weights).</summary>
    public static WeightsSnapshot From(IEnumerable<KeyValuePair<string, Tensor>> values)
    {
        using var noGrad = no_grad();
        return new WeightsSnapshot(values.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal));
    }

    public void Restore(nn.Module module)
    {
        using var noGrad = no_grad();
        foreach (var (name, tensor) in module.state_dict())
        {
            tensor.copy_(_values[name]);
        }
    }

    public void Dispose()
    {
        foreach (var tensor in _values.Values)
        {
            tensor.Dispose();
        }
    }
}
