namespace CifarBatchNorm.Callbacks;

/// <summary>The comparison shared by the callbacks that watch one logged quantity.</summary>
internal sealed class Monitor
{
    public Monitor(string name, MonitorMode mode, double minDelta)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!(minDelta >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "min_delta must be zero or positive.");
        }

        Name = name;
        Maximize = mode == MonitorMode.Max || (mode == MonitorMode.Auto && name.Contains("acc", StringComparison.Ordinal));
        MinDelta = minDelta;
    }

    public string Name { get; }

    public bool Maximize { get; }

    public double MinDelta { get; }

    /// <summary>The worst possible value, to start from.</summary>
    public double Worst => Maximize ? double.NegativeInfinity : double.PositiveInfinity;

    /// <summary>Whether <paramref name="current"/> beats <paramref name="reference"/> by more than min_delta.</summary>
    public bool IsImprovement(double current, double reference) =>
        Maximize ? current - MinDelta > reference : current + MinDelta < reference;

    /// <summary>The monitored value in <paramref name="logs"/>; throws naming the available keys when missing.</summary>
    public double Read(IDictionary<string, double> logs, string callback)
    {
        if (logs.TryGetValue(Name, out double value))
        {
            return value;
        }

        throw new InvalidOperationException(
            $"{callback} monitors '{Name}', which is not logged; available: {string.Join(", ", logs.Keys.Order(StringComparer.Ordinal))} (val_* need validation data).");
    }
}
