using System.Collections;
using System.Text.Json;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Cli;

public sealed class JemallocLauncherTests
{
    private const string Debian = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";

    private static Hashtable Env(params (string Name, string Value)[] pairs)
    {
        var table = new Hashtable { ["PATH"] = "/usr/bin", ["HOME"] = "/root" };
        foreach (var (name, value) in pairs)
        {
            table[name] = value;
        }

        return table;
    }

    private static bool OnlyDebian(string path) => path == Debian;

    [Fact]
    public void Restarts_with_the_installed_library_the_original_environment_and_never_returning_pages()
    {
        var (outcome, environment, library) = JemallocLauncher.Decide(Env(("CIFAR_BATCHNORM_URL", "http://x")), isLinux: true, OnlyDebian);

        Assert.Equal(JemallocRestart.Restarting, outcome);
        Assert.Equal(Debian, library);
        Assert.Equal(Debian, environment!["LD_PRELOAD"]);
        Assert.Equal("dirty_decay_ms:-1,muzzy_decay_ms:-1", environment["MALLOC_CONF"]);
        Assert.Equal("1", environment[JemallocLauncher.RestartedVariable]);
        Assert.Equal("/usr/bin", environment["PATH"]);
        Assert.Equal("http://x", environment["CIFAR_BATCHNORM_URL"]);
    }

    [Fact]
    public void A_malloc_conf_the_user_set_is_kept()
    {
        var (_, environment, _) = JemallocLauncher.Decide(Env(("MALLOC_CONF", "narenas:1")), isLinux: true, OnlyDebian);

        Assert.Equal("narenas:1", environment!["MALLOC_CONF"]);
    }

    [Fact]
    public void The_library_can_be_named_and_a_named_missing_file_is_not_replaced_by_a_search()
    {
        var named = JemallocLauncher.Decide(Env((JemallocLauncher.LibraryVariable, "/opt/je/libjemalloc.so")), true, p => p == "/opt/je/libjemalloc.so" || p == Debian);
        var missing = JemallocLauncher.Decide(Env((JemallocLauncher.LibraryVariable, "/opt/none.so")), true, OnlyDebian);

        Assert.Equal("/opt/je/libjemalloc.so", named.Environment!["LD_PRELOAD"]);
        Assert.Equal(JemallocRestart.RestartingGlibc, missing.Outcome);   // no jemalloc: tuned glibc instead
        Assert.False(missing.Environment!.ContainsKey("LD_PRELOAD"));
    }

    [Theory]
    [InlineData("CIFAR_BATCHNORM_ALLOCATOR", "default", "OptedOut")]
    [InlineData("LD_PRELOAD", "/usr/lib/libtcmalloc.so", "PreloadSet")]
    [InlineData("CIFAR_BATCHNORM_RESTARTED", "1", "AlreadyRestarted")]
    public void Leaves_the_process_alone_when_told_to_or_already_done(string name, string value, string expectedOutcome)
    {
        var expected = Enum.Parse<JemallocRestart>(expectedOutcome);
        var (outcome, environment, _) = JemallocLauncher.Decide(Env((name, value)), isLinux: true, OnlyDebian);

        Assert.Equal(expected, outcome);
        Assert.Null(environment);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("glibc")]
    [InlineData("GLIBC")]
    public void Without_jemalloc_or_with_glibc_chosen_it_restarts_once_on_glibc_tuned_from_the_first_thread(string? choice)
    {
        var current = choice is null ? Env() : Env(("CIFAR_BATCHNORM_ALLOCATOR", choice));

        Func<string, bool> installed = choice is null ? _ => false : OnlyDebian;   // chosen glibc even where jemalloc is there

        var (outcome, environment, library) = JemallocLauncher.Decide(current, isLinux: true, installed);

        Assert.Equal(JemallocRestart.RestartingGlibc, outcome);
        Assert.Null(library);
        Assert.Equal("1", environment!["MALLOC_ARENA_MAX"]);
        Assert.Equal("0", environment["MALLOC_MMAP_MAX_"]);
        Assert.Equal("68719476736", environment["MALLOC_TRIM_THRESHOLD_"]);
        Assert.Equal("1", environment["CIFAR_BATCHNORM_GLIBC_TUNED"]);
        Assert.Equal("1", environment["CIFAR_BATCHNORM_RESTARTED"]);
        Assert.False(environment.ContainsKey("LD_PRELOAD"));
        var again = JemallocLauncher.Decide(new System.Collections.Hashtable(environment), isLinux: true, _ => false);
        Assert.Equal(JemallocRestart.AlreadyRestarted, again.Outcome);   // never a second restart
    }

    [Theory]
    [InlineData("MALLOC_ARENA_MAX", "4")]
    [InlineData("MALLOC_MMAP_MAX_", "65536")]
    [InlineData("MALLOC_TRIM_THRESHOLD_", "131072")]
    public void Glibc_variables_the_user_set_win_and_mean_no_restart(string name, string value)
    {
        var notInstalled = JemallocLauncher.Decide(Env((name, value)), isLinux: true, _ => false);
        var chosen = JemallocLauncher.Decide(Env((name, value), ("CIFAR_BATCHNORM_ALLOCATOR", "glibc")), isLinux: true, OnlyDebian);

        Assert.Equal((JemallocRestart.NotInstalled, (SortedDictionary<string, string>?)null), (notInstalled.Outcome, notInstalled.Environment));
        Assert.Equal((JemallocRestart.OptedOut, (SortedDictionary<string, string>?)null), (chosen.Outcome, chosen.Environment));
    }

    [Fact]
    public void Nothing_to_do_off_Linux()
    {
        Assert.Equal(JemallocRestart.NotLinux, JemallocLauncher.Decide(Env(), isLinux: false, OnlyDebian).Outcome);
    }

    [Fact]
    public void The_cli_restarts_itself_under_jemalloc_when_installed_and_records_the_allocator_in_the_run()
    {
        Assert.True(OperatingSystem.IsLinux(), "the restart is Linux-only");
        bool installed = JemallocLauncher.Decide(new Hashtable(), isLinux: true, File.Exists).Library is not null;
        using var temp = new TempDirectory();
        string cli = Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll");
        string[] train = ["train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "128", "--test-limit", "64", "--batch-size", "64"];
        var withoutPreload = new Dictionary<string, string> { ["LD_PRELOAD"] = "", ["CIFAR_BATCHNORM_RESTARTED"] = "" };

        var automatic = DotnetCli.Run(temp.Path, [cli, .. train, "--output", temp.Combine("auto")], TimeSpan.FromMinutes(3), withoutPreload);
        var optedOut = DotnetCli.Run(temp.Path, [cli, .. train, "--output", temp.Combine("glibc")], TimeSpan.FromMinutes(3),
            new Dictionary<string, string>(withoutPreload) { ["CIFAR_BATCHNORM_ALLOCATOR"] = "glibc" });

        Assert.True(automatic.ExitCode == 0, automatic.Transcript);
        Assert.True(optedOut.ExitCode == 0, optedOut.Transcript);
        string expected = installed ? "jemalloc" : "glibc (freed buffers kept)";
        Assert.Contains($", allocator {expected}.", automatic.Output);
        Assert.Contains($", allocator {"glibc (freed buffers kept)"}.", optedOut.Output);
        using var config = JsonDocument.Parse(File.ReadAllText(temp.Combine("auto", "config.json")));
        Assert.Equal(expected, config.RootElement.GetProperty("runtime").GetProperty("allocator").GetString());
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)] // the fused kernels, threaded, and the one-pass Adam
    public void The_same_seed_gives_the_same_history_on_jemalloc_and_on_glibc(bool fusedKernels)
    {
        Assert.True(OperatingSystem.IsLinux(), "the allocator choice is Linux-only");
        RequiredData.Jemalloc();
        using var temp = new TempDirectory();
        string cli = Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll");
        string[] train = ["train", "--dataset", "synthetic", "--seed", "5", "--epochs", "2", "--train-limit", "1536", "--test-limit", "512", .. (fusedKernels ? ["--fused-kernels"] : Array.Empty<string>())];
        var withoutPreload = new Dictionary<string, string> { ["LD_PRELOAD"] = "", ["CIFAR_BATCHNORM_RESTARTED"] = "" };

        var jemalloc = DotnetCli.Run(temp.Path, [cli, .. train, "--output", temp.Combine("jemalloc")], TimeSpan.FromMinutes(3), withoutPreload);
        var glibc = DotnetCli.Run(temp.Path, [cli, .. train, "--output", temp.Combine("glibc")], TimeSpan.FromMinutes(3),
            new Dictionary<string, string>(withoutPreload) { ["CIFAR_BATCHNORM_ALLOCATOR"] = "glibc" });

        Assert.True(jemalloc.ExitCode == 0, jemalloc.Transcript);
        Assert.True(glibc.ExitCode == 0, glibc.Transcript);
        string fused = fusedKernels ? $", fused kernels on {Environment.ProcessorCount} threads." : ".";
        Assert.Contains(", allocator jemalloc" + fused, jemalloc.Output);
        Assert.Contains(", allocator glibc (freed buffers kept)" + fused, glibc.Output);
        var a = Values(temp.Combine("jemalloc", "history.json"));
        var b = Values(temp.Combine("glibc", "history.json"));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (string key in a.Keys.Where(k => k is not ("seconds" or "train_seconds")))
        {
            Assert.True(a[key].SequenceEqual(b[key]), $"{key}: jemalloc [{string.Join(", ", a[key])}] vs glibc [{string.Join(", ", b[key])}]");
        }
    }

    private static Dictionary<string, double[]> Values(string historyFile)
    {
        using var history = JsonDocument.Parse(File.ReadAllText(historyFile));
        return history.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetDouble()).ToArray());
    }
}
