using System.Globalization;
using System.Text.Json.Serialization;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// One training step of the notebook model split by layer and pass (<c>cifar-bn bench --profile</c>): the forward of
/// each stage timed around its call, the backward of each stage timed between identity markers whose backward records
/// the time (<see cref="StepProfiler"/>), the loss, zero_grad, the optimizer and the read-back.
/// </summary>
internal sealed record StepProfile
{
    /// <summary>The input shape, <c>32x32x3</c> or <c>28x28x1</c>.</summary>
    [JsonPropertyName("shape")]
    public required string Shape { get; init; }

    /// <summary>Whether the model ran with the fused ReLU + batch-norm kernels (<c>ExecutionPolicy.FusedKernels</c>).</summary>
    [JsonPropertyName("fused_kernels")]
    public bool FusedKernels { get; init; }

    /// <summary>Threads the fused kernels' own loops ran on (1, or the session's threads); <c>null</c> unfused.</summary>
    [JsonPropertyName("fused_kernel_threads")]
    public int? KernelThreads { get; init; }

    /// <summary>Milliseconds of the plain step (no markers, not split), timed alternately with the profiled ones.</summary>
    [JsonPropertyName("step_ms")]
    public required TimingStats StepMs { get; init; }

    /// <summary>Milliseconds of the profiled step, timed around the whole of it.</summary>
    [JsonPropertyName("profiled_step_ms")]
    public required TimingStats ProfiledStepMs { get; init; }

    /// <summary>The parts, in the order they run (backward parts in the forward order of their stages).</summary>
    [JsonPropertyName("parts")]
    public required IReadOnlyList<ProfilePart> Parts { get; init; }

    /// <summary>Mean profiled step minus the sum of the parts' means: the markers' forward calls and the timing itself.</summary>
    [JsonPropertyName("unattributed_ms")]
    public double UnattributedMs { get; init; }

    /// <summary>Writes the profile as a table: one row per stage (forward, backward), then the other parts.</summary>
    public void WriteTable(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var inv = CultureInfo.InvariantCulture;
        double total = Parts.Sum(p => p.MeanMs) + UnattributedMs;
        writer.WriteLine(string.Create(inv,
            $"profile {Shape}, {(FusedKernels ? $"fused ReLU+BN kernels on {KernelThreads} thread(s), channels-last throughout" : "unfused (libtorch kernels)")}: plain step median {StepMs.Median:0.00} ms, profiled {ProfiledStepMs.Median:0.00} ms (mean {total:0.00})"));
        // Wide enough for the longest stage (a fused conv + batch norm + pooling name is longer than 44 characters).
        int width = Parts.Aggregate(44, (longest, p) => Math.Max(longest, p.Name.Length));
        writer.WriteLine($"  {"stage".PadRight(width)} {"forward",9} {"backward",9} {"share",7}");
        foreach (var group in Parts.GroupBy(p => p.Name))
        {
            double forward = group.Where(p => p.Pass is "forward").Sum(p => p.MedianMs);
            double backward = group.Where(p => p.Pass is "backward").Sum(p => p.MedianMs);
            double other = group.Where(p => p.Pass is not "forward" and not "backward").Sum(p => p.MedianMs);
            double share = group.Sum(p => p.MeanMs) / total * 100;
            string Cell(double ms, bool present) => present ? ms.ToString("0.00", inv) : "";
            bool isStage = group.Any(p => p.Pass is "forward" or "backward");
            writer.WriteLine(string.Create(inv,
                $"  {group.Key.PadRight(width)} {Cell(isStage ? forward : other, true),9} {Cell(backward, isStage),9} {share,6:0.0}%"));
        }

        writer.WriteLine(string.Create(inv, $"  {"unattributed (markers, timers)".PadRight(width)} {UnattributedMs,9:0.00} {"",9} {UnattributedMs / total * 100,6:0.0}%"));
    }
}
