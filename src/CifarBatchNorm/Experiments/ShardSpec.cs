using System.Globalization;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> (<c>K/N</c>, K from 1): it runs the grid cells whose canonical
/// index i has <c>i mod N = K - 1</c>, so N shards cover the grid exactly once, and the partition depends on nothing but
/// the config. Array jobs of a scheduler (Slurm, Kubernetes Indexed Jobs) run one shard each.
/// </summary>
/// <param name="Index">This shard, 1 to <paramref name="Count"/>.</param>
/// <param name="Count">How many shards, at least 1.</param>
public sealed record ShardSpec(int Index, int Count)
{
    /// <summary>Whether the cell <paramref name="cellIndex"/> is this shard's.</summary>
    public bool Contains(int cellIndex) => cellIndex % Count == Index - 1;

    /// <summary>Parses <c>K/N</c>.</summary>
    /// <exception cref="ArgumentException">Not of that form, or K outside 1..N.</exception>
    public static ShardSpec Parse(string text)
    {
        string[] parts = (text ?? string.Empty).Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && k >= 1 && k <= n)
        {
            return new ShardSpec(k, n);
        }

        throw new ArgumentException($"{nameof(CompareConfig)}.{nameof(CompareConfig.Shard)} '{text}' is not K/N with 1 <= K <= N (for example 2/4).",
            $"{nameof(CompareConfig)}.{nameof(CompareConfig.Shard)}");
    }

    /// <summary><c>K/N</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
