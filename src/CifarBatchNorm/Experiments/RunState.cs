using System.Text.Json.Serialization;

namespace CifarBatchNorm.Experiments;

/// <summary>Where a run stands (<c>status.json</c>'s <c>state</c>, written in lower case).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunState>))]
internal enum RunState
{
    /// <summary>Training; the folder holds the checkpoint of the last finished epoch.</summary>
    [JsonStringEnumMemberName("running")]
    Running,

    /// <summary>Stopped by a signal or cancellation; resumable.</summary>
    [JsonStringEnumMemberName("interrupted")]
    Interrupted,

    /// <summary>The loss became NaN or infinite; resumable from the last finished epoch.</summary>
    [JsonStringEnumMemberName("diverged")]
    Diverged,

    /// <summary>Finished and evaluated.</summary>
    [JsonStringEnumMemberName("complete")]
    Complete,
}
