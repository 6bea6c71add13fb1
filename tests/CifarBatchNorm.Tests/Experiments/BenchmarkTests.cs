using System.Text.Json;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using TorchSharp;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>The benchmark's plumbing. Nothing here checks a timing: the machine is shared and timings are noisy.</summary>
public sealed class BenchmarkTests
{
    private static readonly string[] StatsFields =
    [
        "train_step_32x32x3_ms", "train_step_28x28x1_ms", "epoch_seconds", "epoch_bare_steps_seconds", "epoch_overhead_ratio",
        "batch_assembly_ms", "eval_images_per_second", "data_load_seconds",
    ];

    private static readonly string[] PositiveFields =
    [
        "threads", "repeats", "batch_size", "eval_batch_size", "bare_step_managed_bytes", "fit_step_managed_bytes",
        "peak_rss_mb", "rss_epoch2_mb", "rss_last_epoch_mb", "memory_epochs", "memory_train_images",
    ];

    /// <summary>Runs <c>bench --quick --repeats 1</c> with <paramref name="arguments"/> into a temporary bench.json; checks it exits 0 and returns what it printed and the file.</summary>
    private static (string Stdout, JsonElement Json) Bench(params string[] arguments)
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("bench.json");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = App.Run(["bench", "--quick", "--repeats", "1", .. arguments, "--output", path], stdout, stderr, CancellationToken.None);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return (stdout.ToString(), json.RootElement.Clone());
    }

    [Fact]
    public void Bench_command_in_quick_mode_writes_every_field_with_positive_values()
    {
        var (stdout, json) = Bench();
        Assert.Contains("train step 32x32x3", stdout, StringComparison.Ordinal);
        var root = json;
        Assert.Equal("torchsharp", root.GetProperty("implementation").GetString());
        Assert.True(root.GetProperty("quick").GetBoolean());
        foreach (string field in StatsFields)
        {
            var stats = root.GetProperty(field);
            foreach (string part in new[] { "median", "min", "max", "count" })
            {
                Assert.True(stats.GetProperty(part).GetDouble() > 0, $"{field}.{part} is {stats.GetProperty(part)}");
            }

            Assert.True(stats.GetProperty("min").GetDouble() <= stats.GetProperty("max").GetDouble(), field);
        }

        foreach (string field in PositiveFields)
        {
            Assert.True(root.GetProperty(field).GetDouble() > 0, $"{field} is {root.GetProperty(field)}");
        }

        Assert.True(double.IsFinite(root.GetProperty("rss_growth_percent").GetDouble()));
        Assert.Equal(JsonValueKind.True, root.GetProperty("peak_rss_reset").ValueKind);
    }

    [Fact]
    public void The_notebook_step_is_2_9_gflop_and_the_floor_case_reports_its_time_at_the_sgemm_rate()
    {
        // By hand from the summary (same padding): multiply-adds per image of conv2d 32*32*8*27 = 221,184, conv2d_1
        // 8,192*72 = 589,824, conv2d_2 16*16*16*72 = 294,912, conv2d_3 4,096*144 = 589,824, dense 1,024*256 = 262,144,
        // dense_1 2,560; forward + weight gradients for all, input gradients for all but conv2d: 2*221,184 + 3*1,739,264
        // = 5,660,160; 2 FLOP each, batch 256.
        Assert.Equal(5_660_160.0 * 2 * 256 / 1e9, Benchmark.TrainingStepGflop(TestSession.Start(), ImageShape.Cifar10, 256), 9);

        var (stdout, json) = Bench("--cases", "floor");
        double rate = json.GetProperty("sgemm_2048_gflops").GetProperty("median").GetDouble();
        double floor = json.GetProperty("compute_floor_32x32x3_ms").GetDouble();
        Assert.InRange(rate, 0.5, 100_000);
        Assert.InRange(floor / (2.89798144 / rate * 1000), 0.999, 1.001);                 // the median as bench.json rounds it
        Assert.Contains("compute floor of the 32x32x3 step: 2.90 GFLOP", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Variant_step_case_times_every_variant_whose_step_differs_in_work()
    {
        var (stdout, json) = Bench("--cases", "variant-step");
        Assert.Contains("step 28x28x1, bn-before-relu", stdout, StringComparison.Ordinal);
        var variants = json.GetProperty("variant_step_28x28x1_ms");
        Assert.Equal(["bn", "none", "bn-before-relu", "renorm"], variants.EnumerateObject().Select(p => p.Name));
        Assert.All(variants.EnumerateObject(), p => Assert.True(p.Value.GetProperty("median").GetDouble() > 0, p.Name));
        Assert.False(json.TryGetProperty("train_step_32x32x3_ms", out var other) && other.ValueKind != JsonValueKind.Null);
    }

    [Fact]
    public void Conv_case_times_each_notebook_convolution_in_both_layouts()
    {
        var (stdout, json) = Bench("--cases", "conv");
        Assert.Contains("conv 8->16 16x16 channels-last backward", stdout, StringComparison.Ordinal);
        var rows = json.GetProperty("conv").EnumerateArray().ToList();
        Assert.Equal(
            ["3->8 32x32 NCHW", "3->8 32x32 channels-last", "8->8 32x32 NCHW", "8->8 32x32 channels-last",
             "8->16 16x16 NCHW", "8->16 16x16 channels-last", "16->16 16x16 NCHW", "16->16 16x16 channels-last"],
            rows.Select(r => $"{r.GetProperty("shape").GetString()} {r.GetProperty("layout").GetString()}"));
        Assert.All(rows, r => Assert.True(r.GetProperty("forward_ms").GetProperty("median").GetDouble() > 0
            && r.GetProperty("backward_ms").GetProperty("median").GetDouble() > 0));
        Assert.Equal(TorchRuntime.Require().OneDnnMaxIsa, json.GetProperty("one_dnn_max_isa").GetString());
    }

    [Fact]
    public void Bench_command_rejects_an_unknown_case()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        int code = App.Run(["bench", "--quick", "--cases", "train-step,warp-drive"], stdout, stderr, CancellationToken.None);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("unknown case 'warp-drive'", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Benchmark_options_reject_zero_repeats()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new BenchmarkOptions { Repeats = 0 }.Validate());

        Assert.Equal("Repeats", error.ParamName);
    }

    [Fact]
    public void Bench_profile_names_every_layer_and_its_parts_add_up_to_the_step()
    {
        var (stdout, json) = Bench("--cases", "train-step", "--profile", "--fused-kernels");
        Assert.Contains("profile 32x32x3, unfused (libtorch kernels)", stdout, StringComparison.Ordinal);
        Assert.Contains("profile 28x28x1, fused ReLU+BN kernels on 1 thread(s), channels-last throughout", stdout, StringComparison.Ordinal);
        Assert.Contains("Execution: device cpu, layout channels-last from the first convolution in training", stdout, StringComparison.Ordinal);
        var root = json;
        Assert.True(root.GetProperty("fused_kernels").GetBoolean());
        Assert.Contains("fused ReLU+BN kernels in training", root.GetProperty("execution").GetString(), StringComparison.Ordinal);
        string[] layers = ["conv2d", "batch_normalization", "conv2d_1", "batch_normalization_1", "max_pooling2d", "conv2d_2", "batch_normalization_2",
            "conv2d_3", "batch_normalization_3", "max_pooling2d_1", "flatten", "dense", "batch_normalization_4", "dense_1"];
        var profiles = root.GetProperty("profile").EnumerateArray().ToList();
        Assert.Equal(["32x32x3", "32x32x3", "32x32x3", "28x28x1", "28x28x1", "28x28x1"], profiles.Select(p => p.GetProperty("shape").GetString()));
        Assert.Equal([false, true, true, false, true, true], profiles.Select(p => p.GetProperty("fused_kernels").GetBoolean()));
        int threads = root.GetProperty("threads").GetInt32();
        Assert.Equal([null, 1, threads, null, 1, threads], profiles.Select(p => p.GetProperty("fused_kernel_threads") is { ValueKind: JsonValueKind.Number } t ? t.GetInt32() : (int?)null));
        foreach (var profile in profiles)
        {
            var parts = profile.GetProperty("parts").EnumerateArray().ToList();
            var named = parts.SelectMany(p => p.GetProperty("name").GetString()!.Split('+')).ToHashSet();
            Assert.All(layers, layer => Assert.Contains(layer, named));
            Assert.Equal( // every stage (and the loss) has a forward and a backward part
                parts.Where(p => p.GetProperty("pass").GetString() == "forward").Select(p => p.GetProperty("name").GetString()).Order(),
                parts.Where(p => p.GetProperty("pass").GetString() == "backward").Select(p => p.GetProperty("name").GetString()).Order());
            Assert.Equal(["zero_grad", "optimizer", "metrics"], parts.Where(p => p.GetProperty("pass").GetString() is "optimizer" or "readback").Select(p => p.GetProperty("name").GetString()));

            Assert.All(parts, p => Assert.True(p.GetProperty("median_ms").GetDouble() > 0 && p.GetProperty("mean_ms").GetDouble() > 0, p.ToString()));
            double sum = parts.Sum(p => p.GetProperty("mean_ms").GetDouble());
            double unattributed = profile.GetProperty("unattributed_ms").GetDouble();
            Assert.True(unattributed >= 0 && unattributed <= 0.1 * (sum + unattributed), $"parts {sum} ms, unattributed {unattributed} ms");
            Assert.True(profile.GetProperty("step_ms").GetProperty("median").GetDouble() > 0);
        }

        // The fused model runs conv + batch norm as one stage, with the pooling after it where there is one.
        Assert.Contains(profiles[1].GetProperty("parts").EnumerateArray(), p => p.GetProperty("name").GetString() == "conv2d+batch_normalization");
        Assert.Contains(profiles[1].GetProperty("parts").EnumerateArray(), p => p.GetProperty("name").GetString() == "conv2d_1+batch_normalization_1+max_pooling2d");
        Assert.Contains(profiles[4].GetProperty("parts").EnumerateArray(), p => p.GetProperty("name").GetString() == "conv2d_3+batch_normalization_3+max_pooling2d_1");
        Assert.DoesNotContain(profiles[0].GetProperty("parts").EnumerateArray(), p => p.GetProperty("name").GetString()!.Contains('+', StringComparison.Ordinal));
    }

    /// <summary>The layout change (channels-last convolutions) must keep training reproducible run to run.</summary>
    [Fact]
    public void Benchmark_model_trains_bit_identically_for_the_same_seed()
    {
        var (train, test) = SyntheticImages.Generate(new SyntheticOptions { TrainCount = 600, TestCount = 200, Seed = 3 });

        History Train()
        {
            torch.manual_seed(11);
            using var model = ModelPresets.Notebook(ImageShape.Cifar10);
            model.Compile(new Adam());
            return model.Fit(train, batchSize: 256, epochs: 2, verbose: 0, validationData: test);
        }

        var first = Train();
        var second = Train();

        foreach (string key in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
        {
            Assert.Equal(first.Values[key], second.Values[key]);
        }
    }
}
