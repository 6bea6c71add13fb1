using CifarBatchNorm.Runtime;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>Settings that cannot be right are refused or said, not silently accepted (issue: silent acceptance).</summary>
public sealed class RuntimeSettingsCliTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll");

    private static CommandResult Summary(IReadOnlyDictionary<string, string> environment, params string[] extra) =>
        DotnetCli.Run(AppContext.BaseDirectory, [Cli, "summary", .. extra], TimeSpan.FromMinutes(2),
            new Dictionary<string, string>(environment) { ["LD_PRELOAD"] = "", ["CIFAR_BATCHNORM_RESTARTED"] = "" });

    [Fact]
    public void An_unknown_allocator_choice_is_one_line_and_exit_2()
    {
        var result = Summary(new Dictionary<string, string> { ["CIFAR_BATCHNORM_ALLOCATOR"] = "xyz" });

        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("error: CIFAR_BATCHNORM_ALLOCATOR=xyz is not a known allocator choice: leave it unset (jemalloc when installed), or set glibc or default.", line);
        Assert.DoesNotContain("Model:", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_onednn_instruction_set_is_one_line_naming_the_variable()
    {
        var result = Summary(new Dictionary<string, string> { ["ONEDNN_MAX_CPU_ISA"] = "garbage" });

        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ONEDNN_MAX_CPU_ISA=garbage is not an instruction set oneDNN knows", line, StringComparison.Ordinal);
        Assert.Contains("AVX2", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Known_onednn_values_pass_in_any_case()
    {
        TorchRuntime.CheckOneDnnIsa("avx2");
        TorchRuntime.CheckOneDnnIsa("AVX512_CORE");
        TorchRuntime.CheckOneDnnIsa(null);
        Assert.Throws<ArgumentException>(() => TorchRuntime.CheckOneDnnIsa("AVX3"));
    }

    [Fact]
    public void More_threads_than_cores_trains_with_a_warning_line()
    {
        using var temp = new TempDirectory();
        int threads = Environment.ProcessorCount * 4;
        var result = DotnetCli.Run(temp.Path,
            [Cli, "train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "64", "--test-limit", "32", "--threads", $"{threads}", "-o", temp.Combine("run")],
            TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.Transcript);
        Assert.Contains($"warning: --threads {threads} is more than the {Environment.ProcessorCount} cores here", result.Error, StringComparison.Ordinal);
        Assert.Contains($"Runtime: {threads} threads", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Fused_kernels_let_onednn_run_avx512_with_every_convolution_channels_last_threaded_and_record_it()
    {
        using var temp = new TempDirectory();
        var result = DotnetCli.Run(temp.Path,
            [Cli, "train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "64", "--test-limit", "32", "--fused-kernels", "-o", temp.Combine("run")],
            TimeSpan.FromMinutes(2), new Dictionary<string, string>
            {
                ["ONEDNN_MAX_CPU_ISA"] = "", ["ONEDNN_VERBOSE"] = "1", ["OMP_WAIT_POLICY"] = "", ["GOMP_SPINCOUNT"] = "", ["OMP_DISPLAY_ENV"] = "VERBOSE",
            });

        Assert.True(result.ExitCode == 0, result.Transcript);
        // The fused kernels are threaded and libgomp's workers spin briefly, unless busy cores made them sleep at once;
        // either way libgomp itself says the spin the banner names (it reads its environment once, when it loads).
        Assert.Contains($"fused kernels on {Environment.ProcessorCount} threads", result.Output, StringComparison.Ordinal);
        bool passive = result.Output.Contains("OpenMP wait PASSIVE", StringComparison.Ordinal);
        Assert.True(passive || result.Output.Contains("OpenMP wait " + TorchRuntime.BriefSpinThenSleep, StringComparison.Ordinal), result.Output);
        Assert.Contains($"GOMP_SPINCOUNT = '{(passive ? 0 : TorchRuntime.KernelSpinCount)}'", result.Transcript, StringComparison.Ordinal);
        Assert.Contains($"spin {TorchRuntime.KernelSpinCount} rounds", TorchRuntime.BriefSpinThenSleep, StringComparison.Ordinal);
        bool avx512 = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        if (avx512)
        {
            Assert.Contains("isa:Intel AVX-512", result.Output, StringComparison.Ordinal);    // what oneDNN itself says it runs
        }

        Assert.Contains(avx512 ? "oneDNN ALL (AVX-512, convolutions channels-last)" : "oneDNN ALL,", result.Output, StringComparison.Ordinal);
        Assert.Equal(avx512, result.Output.Contains("every convolution channels-last", StringComparison.Ordinal));
        string config = File.ReadAllText(temp.Combine("run", "config.json"));
        Assert.Contains("\"ALL\"", config, StringComparison.Ordinal);
        Assert.Equal("ALL", CifarBatchNorm.Experiments.RunSession.Recorded(temp.Combine("run")).OneDnnIsa);
    }

    [Fact]
    public void The_openmp_wait_the_banner_names_is_the_one_libgomp_runs()
    {
        using var temp = new TempDirectory();
        var result = DotnetCli.Run(temp.Path,
            [Cli, "train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "64", "--test-limit", "32", "-o", temp.Combine("run")],
            TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["OMP_WAIT_POLICY"] = "", ["GOMP_SPINCOUNT"] = "", ["OMP_DISPLAY_ENV"] = "VERBOSE" });

        Assert.True(result.ExitCode == 0, result.Transcript);
        Assert.DoesNotContain("fused kernels on", result.Output, StringComparison.Ordinal);
        // Busy cores at start-up: PASSIVE, so libgomp must not spin (it did, 300000 rounds, while the device was
        // resolved before the runtime was set up); idle ones: libgomp's default.
        bool passive = result.Output.Contains("OpenMP wait PASSIVE", StringComparison.Ordinal);
        Assert.True(passive || result.Output.Contains("OpenMP wait " + TorchRuntime.SpinThenSleep, StringComparison.Ordinal), result.Output);
        Assert.Contains($"GOMP_SPINCOUNT = '{(passive ? 0 : 300000)}'", result.Transcript, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_onednn_variable_still_gets_the_avx2_cap_in_native_code()
    {
        using var temp = new TempDirectory();
        var result = DotnetCli.Run(temp.Path,
            [Cli, "train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "64", "--test-limit", "32", "-o", temp.Combine("run")],
            TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["ONEDNN_MAX_CPU_ISA"] = "", ["ONEDNN_VERBOSE"] = "1" });

        Assert.True(result.ExitCode == 0, result.Transcript);
        Assert.Contains("oneDNN AVX2,", result.Output, StringComparison.Ordinal);
        Assert.Contains("isa:Intel AVX2", result.Output, StringComparison.Ordinal);                // oneDNN's own line, not only ours
    }
}
