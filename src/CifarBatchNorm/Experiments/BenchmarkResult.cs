using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// What <see cref="Benchmark.Run"/> measured, written as <c>bench.json</c> with snake_case fields. A case that was
/// not run is <c>null</c>. <c>scripts/bench/pytorch_reference.py</c> writes the same fields for the PyTorch peer.
/// </summary>
internal sealed record BenchmarkResult
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Which implementation measured: <c>torchsharp</c> here, <c>pytorch</c> for the peer.</summary>
    [JsonPropertyName("implementation")]
    public string Implementation { get; init; } = "torchsharp";

    /// <summary>The machine (<see cref="MachineInfo.Describe"/>).</summary>
    [JsonPropertyName("machine")]
    public string Machine { get; init; } = "";

    /// <summary>Intra-op threads.</summary>
    [JsonPropertyName("threads")]
    public int Threads { get; init; }

    /// <summary>The native allocator (<see cref="Runtime.RuntimeSettings.Allocator"/>).</summary>
    [JsonPropertyName("allocator")]
    public Runtime.NativeAllocator Allocator { get; init; }

    /// <summary>What idle OpenMP workers do (<see cref="Runtime.RuntimeSettings.OmpWaitPolicy"/>).</summary>
    [JsonPropertyName("omp_wait_policy")]
    public string OmpWaitPolicy { get; init; } = "";

    /// <summary>The oneDNN instruction-set cap (<see cref="Runtime.RuntimeSettings.OneDnnMaxIsa"/>): <c>AVX2</c>, or <c>ALL</c> where the session asked for AVX-512 convolutions.</summary>
    [JsonPropertyName("one_dnn_max_isa")]
    public string OneDnnMaxIsa { get; init; } = "";

    /// <summary>How the models ran (<see cref="Training.ExecutionPolicy"/>'s banner line).</summary>
    [JsonPropertyName("execution")]
    public string Execution { get; init; } = "";

    /// <summary>Whether the cases ran with the fused ReLU + batch-norm kernels (<c>--fused-kernels</c>).</summary>
    [JsonPropertyName("fused_kernels")]
    public bool FusedKernels { get; init; }

    /// <summary>Whether the counts were the quick (smoke-test) ones.</summary>
    [JsonPropertyName("quick")]
    public bool Quick { get; init; }

    /// <summary>Repeats of each case.</summary>
    [JsonPropertyName("repeats")]
    public int Repeats { get; init; }

    /// <summary>Training batch size (256).</summary>
    [JsonPropertyName("batch_size")]
    public int BatchSize { get; init; }

    /// <summary>Evaluation batch size (1024).</summary>
    [JsonPropertyName("eval_batch_size")]
    public int EvalBatchSize { get; init; }

    /// <summary>Milliseconds per bare training step (forward, backward, Adam) of the notebook model on 32x32x3 images.</summary>
    [JsonPropertyName("train_step_32x32x3_ms")]
    public TimingStats? TrainStep32x32x3Ms { get; init; }

    /// <summary>Milliseconds per bare training step on 28x28x1 images.</summary>
    [JsonPropertyName("train_step_28x28x1_ms")]
    public TimingStats? TrainStep28x28x1Ms { get; init; }

    /// <summary>Milliseconds per bare training step on 28x28x1 images by variant name (<c>variant-step</c>), or <c>null</c> when not measured.</summary>
    [JsonPropertyName("variant_step_28x28x1_ms")]
    public IReadOnlyDictionary<string, TimingStats>? VariantStep28x28x1Ms { get; init; }

    /// <summary>
    /// The notebook's convolutions (32x32x3 input, batch 256) forward and backward in each layout, under the process's
    /// oneDNN cap (<see cref="OneDnnMaxIsa"/>) (<c>conv</c>), or <c>null</c> when not measured.
    /// </summary>
    [JsonPropertyName("conv")]
    public IReadOnlyList<ConvTiming>? Conv { get; init; }

    /// <summary>Seconds of a whole <c>Fit</c> epoch (32x32x3), batch assembly and shuffling included.</summary>
    [JsonPropertyName("epoch_seconds")]
    public TimingStats? EpochSeconds { get; init; }

    /// <summary>Seconds of the same number of bare training steps on a ready batch.</summary>
    [JsonPropertyName("epoch_bare_steps_seconds")]
    public TimingStats? EpochBareStepsSeconds { get; init; }

    /// <summary>Epoch time over the sum of its bare steps, one ratio per repeat (goal: at most 1.05).</summary>
    [JsonPropertyName("epoch_overhead_ratio")]
    public TimingStats? EpochOverheadRatio { get; init; }

    /// <summary>Milliseconds to assemble one shuffled batch of 256 (copy the bytes, convert to float), as Fit does.</summary>
    [JsonPropertyName("batch_assembly_ms")]
    public TimingStats? BatchAssemblyMs { get; init; }

    /// <summary>Managed bytes allocated per bare step (TorchSharp's tensor handles, mostly).</summary>
    [JsonPropertyName("bare_step_managed_bytes")]
    public double? BareStepManagedBytes { get; init; }

    /// <summary>Managed bytes allocated per Fit step, the epoch's bookkeeping spread over its steps included.</summary>
    [JsonPropertyName("fit_step_managed_bytes")]
    public double? FitStepManagedBytes { get; init; }

    /// <summary>Images per second of <c>Evaluate</c> (loss and accuracy, inference mode) at batch 1024, 32x32x3.</summary>
    [JsonPropertyName("eval_images_per_second")]
    public TimingStats? EvalImagesPerSecond { get; init; }

    /// <summary>GFLOP/s of a 2048 x 2048 x 2048 float32 matrix product (libtorch's <c>mm</c>, the session's threads): the rate the machine's best kernel reaches (<c>floor</c>).</summary>
    [JsonPropertyName("sgemm_2048_gflops")]
    public TimingStats? SgemmGflops { get; init; }

    /// <summary>GFLOP of one training step of the notebook model on 32x32x3 images at batch 256: forward, the weight gradients and every input gradient but the first layer's (multiply-adds count 2).</summary>
    [JsonPropertyName("train_step_32x32x3_gflop")]
    public double? TrainStep32x32x3Gflop { get; init; }

    /// <summary>The 32x32x3 step's compute floor: <see cref="TrainStep32x32x3Gflop"/> at the median <see cref="SgemmGflops"/>, in ms.</summary>
    [JsonPropertyName("compute_floor_32x32x3_ms")]
    public double? ComputeFloor32x32x3Ms { get; init; }

    /// <summary>Peak resident memory (VmHWM) of the memory case, in MB (10^6 bytes).</summary>
    [JsonPropertyName("peak_rss_mb")]
    public double? PeakRssMb { get; init; }

    /// <summary>Whether the peak was reset before the memory case (else it is the whole process's peak).</summary>
    [JsonPropertyName("peak_rss_reset")]
    public bool? PeakRssReset { get; init; }

    /// <summary>Resident memory at the end of epoch 2 of the memory case, in MB.</summary>
    [JsonPropertyName("rss_epoch2_mb")]
    public double? RssEpoch2Mb { get; init; }

    /// <summary>Resident memory at the end of the last epoch of the memory case, in MB.</summary>
    [JsonPropertyName("rss_last_epoch_mb")]
    public double? RssLastEpochMb { get; init; }

    /// <summary>Growth from the end of epoch 2 to the end of the last epoch, in percent (goal: at most 2).</summary>
    [JsonPropertyName("rss_growth_percent")]
    public double? RssGrowthPercent { get; init; }

    /// <summary>Epochs of the memory case.</summary>
    [JsonPropertyName("memory_epochs")]
    public int? MemoryEpochs { get; init; }

    /// <summary>Training images of the memory case.</summary>
    [JsonPropertyName("memory_train_images")]
    public int? MemoryTrainImages { get; init; }

    /// <summary>Seconds to load and validate the six CIFAR-10 binary files (184 MB) with a warm page cache.</summary>
    [JsonPropertyName("data_load_seconds")]
    public TimingStats? DataLoadSeconds { get; init; }

    /// <summary>The training step split by layer and pass, per shape, unfused and fused (<c>--profile</c>); <c>null</c> without it.</summary>
    [JsonPropertyName("profile")]
    public IReadOnlyList<StepProfile>? Profile { get; init; }

    /// <summary>The result as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Writes a table: one row per measured case with median, min and max.</summary>
    public void WriteTable(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine($"{"case",-34} {"median",12} {"min",12} {"max",12}  unit");
        void Row(string name, TimingStats? stats, string unit, string format)
        {
            if (stats is not null)
            {
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-34} {stats.Median.ToString(format, CultureInfo.InvariantCulture),12} {stats.Min.ToString(format, CultureInfo.InvariantCulture),12} {stats.Max.ToString(format, CultureInfo.InvariantCulture),12}  {unit}"));
            }
        }

        Row("train step 32x32x3 (batch 256)", TrainStep32x32x3Ms, "ms", "0.00");
        Row("train step 28x28x1 (batch 256)", TrainStep28x28x1Ms, "ms", "0.00");
        foreach (var (variant, stats) in VariantStep28x28x1Ms ?? new Dictionary<string, TimingStats>())
        {
            Row($"step 28x28x1, {variant}", stats, "ms", "0.00");
        }

        foreach (var conv in Conv ?? [])
        {
            Row($"conv {conv.Shape} {conv.Layout} forward", conv.ForwardMs, "ms", "0.00");
            Row($"conv {conv.Shape} {conv.Layout} backward", conv.BackwardMs, "ms", "0.00");
        }

        Row("epoch (Fit)", EpochSeconds, "s", "0.000");
        Row("epoch bare steps", EpochBareStepsSeconds, "s", "0.000");
        Row("epoch / bare steps", EpochOverheadRatio, "ratio", "0.000");
        Row("batch assembly (256)", BatchAssemblyMs, "ms", "0.000");
        Row("evaluate (batch 1024)", EvalImagesPerSecond, "images/s", "0");
        Row("sgemm 2048^3", SgemmGflops, "GFLOP/s", "0.0");
        if (ComputeFloor32x32x3Ms is double floor && TrainStep32x32x3Gflop is double gflop)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compute floor of the 32x32x3 step: {gflop:0.00} GFLOP at the median sgemm rate = {floor:0.0} ms"));
        }

        Row("CIFAR-10 load (warm)", DataLoadSeconds, "s", "0.000");
        if (BareStepManagedBytes is double bareBytes && FitStepManagedBytes is double fitBytes)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"managed bytes per step: bare {bareBytes:0}, Fit {fitBytes:0}"));
        }

        foreach (var profile in Profile ?? [])
        {
            profile.WriteTable(writer);
        }

        if (PeakRssMb is double peak)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"memory ({MemoryEpochs} epochs of {MemoryTrainImages} images): peak RSS {peak:0} MB{(PeakRssReset == true ? "" : " (process peak)")}, "
                + $"RSS epoch 2 {RssEpoch2Mb:0.0} MB, last epoch {RssLastEpochMb:0.0} MB, growth {RssGrowthPercent:0.00}%"));
        }
    }
}
