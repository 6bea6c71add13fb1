using System.Text.Json.Serialization;

namespace CifarBatchNorm.Experiments;

/// <summary>One convolution of the notebook model timed in one memory layout (<c>bench --cases conv</c>).</summary>
/// <param name="Shape">Input channels, filters and image size, as <c>8-&gt;16 16x16</c>.</param>
/// <param name="Layout"><c>NCHW</c> or <c>channels-last</c>.</param>
/// <param name="ForwardMs">Milliseconds of the forward pass.</param>
/// <param name="BackwardMs">Milliseconds of the backward pass: the weight and bias gradients, and the input gradient but for the first convolution's.</param>
internal sealed record ConvTiming(
    [property: JsonPropertyName("shape")] string Shape,
    [property: JsonPropertyName("layout")] string Layout,
    [property: JsonPropertyName("forward_ms")] TimingStats ForwardMs,
    [property: JsonPropertyName("backward_ms")] TimingStats BackwardMs);
