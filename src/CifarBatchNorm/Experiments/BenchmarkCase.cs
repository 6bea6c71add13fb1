using System.Text.Json.Serialization;

namespace CifarBatchNorm.Experiments;

/// <summary>What <see cref="Benchmark"/> can measure (named in bench.json and on the command line as shown).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BenchmarkCase>))]
internal enum BenchmarkCase
{
    /// <summary><c>train-step</c>: bare training steps on one assembled batch, for both input shapes.</summary>
    [JsonStringEnumMemberName("train-step")]
    TrainStep,

    /// <summary><c>variant-step</c>: bare training steps of each normalization variant on 28x28x1, alternating in one process.</summary>
    [JsonStringEnumMemberName("variant-step")]
    VariantStep,

    /// <summary><c>floor</c>: the machine's float32 matrix-multiply rate and the notebook step's compute floor at that rate.</summary>
    [JsonStringEnumMemberName("floor")]
    Floor,

    /// <summary>Each of the notebook's convolutions forward and backward, NCHW against channels-last (<c>conv</c>).</summary>
    [JsonStringEnumMemberName("conv")]
    Conv,

    /// <summary><c>epoch</c>: a whole Fit epoch against the same number of bare steps.</summary>
    [JsonStringEnumMemberName("epoch")]
    Epoch,

    /// <summary><c>eval</c>: inference throughput.</summary>
    [JsonStringEnumMemberName("eval")]
    Eval,

    /// <summary><c>memory</c>: resident memory over a multi-epoch run.</summary>
    [JsonStringEnumMemberName("memory")]
    Memory,

    /// <summary><c>load</c>: reading the dataset files.</summary>
    [JsonStringEnumMemberName("load")]
    Load,
}
