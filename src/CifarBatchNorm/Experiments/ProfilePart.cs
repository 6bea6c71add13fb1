using System.Text.Json.Serialization;

namespace CifarBatchNorm.Experiments;

/// <summary>One timed part of a profiled training step (<see cref="StepProfile"/>).</summary>
/// <param name="Name">The layers of the stage (<c>conv2d</c>, <c>conv2d+batch_normalization</c> when fused), or <c>loss</c>, <c>zero_grad</c>, <c>optimizer</c>, <c>metrics</c>.</param>
/// <param name="Pass"><c>forward</c>, <c>backward</c>, <c>optimizer</c> (zero_grad and the update) or <c>readback</c> (the loss and correct count read back).</param>
/// <param name="MedianMs">Median over the profiled steps, in milliseconds.</param>
/// <param name="MeanMs">Mean over the profiled steps, in milliseconds (the means add up to the step's mean).</param>
internal sealed record ProfilePart(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("pass")] string Pass,
    [property: JsonPropertyName("median_ms")] double MedianMs,
    [property: JsonPropertyName("mean_ms")] double MeanMs);
