using System.Text.Json.Serialization;

namespace CifarBatchNorm.Training;

/// <summary>How <c>Fit</c> fills its minibatches.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BatchSampling>))]
public enum BatchSampling
{
    /// <summary>A uniform shuffle of the training set every epoch (Keras's <c>shuffle=True</c>): i.i.d. minibatches.</summary>
    [JsonStringEnumMemberName("iid")]
    Iid,

    /// <summary>
    /// Non-i.i.d. minibatches, the setting of Ioffe 2017 (section 4.3) where Batch Renormalization helps: every epoch
    /// each class's examples are shuffled and cut into groups of <c>batch / 2</c>, and the groups are shuffled, so each
    /// minibatch holds examples of about two classes. Deterministic from <c>torch.manual_seed</c>.
    /// </summary>
    [JsonStringEnumMemberName("noniid")]
    NonIid,
}
