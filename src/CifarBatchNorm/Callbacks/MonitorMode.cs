namespace CifarBatchNorm.Callbacks;

/// <summary>Whether a monitored quantity should go down or up (Keras <c>mode</c>).</summary>
public enum MonitorMode
{
    /// <summary>Up for names containing "acc", down otherwise.</summary>
    Auto,

    /// <summary>Lower is better.</summary>
    Min,

    /// <summary>Higher is better.</summary>
    Max,
}
