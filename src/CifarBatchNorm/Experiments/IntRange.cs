namespace CifarBatchNorm.Experiments;

/// <summary>The allowed values of an integer setting, both ends included; defined once on the config type and used by every front end.</summary>
/// <param name="Min">The smallest allowed value.</param>
/// <param name="Max">The largest allowed value.</param>
public readonly record struct IntRange(int Min, int Max)
{
    /// <summary>Whether <paramref name="value"/> is allowed.</summary>
    public bool Contains(int value) => value >= Min && value <= Max;

    /// <summary><c>1 to 100000</c>.</summary>
    public override string ToString() => Max == int.MaxValue ? $"at least {Min}" : $"{Min} to {Max}";
}
