using System.Collections;
using System.Runtime.InteropServices;
using CifarBatchNorm.Runtime;
using System.Text;

namespace CifarBatchNorm.Cli;

/// <summary>
/// Restarts the process with jemalloc preloaded, so that a long training run keeps a flat memory footprint.
/// </summary>
/// <remarks>
/// <para>With glibc's allocator, resident memory grows during training (73% from epoch 2 to epoch 10 of a CIFAR-10-sized
/// run, 3.3 GB at the end) although the number of live tensors is constant: the activation buffers of a step are
/// freed and allocated again in a slightly different order every step and glibc's heap fragments. jemalloc, with page
/// return turned off (<c>MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1</c>, so buffers are reused, never faulted in
/// again), keeps the same run at about 600 MB. An allocator must be in place before the process starts, hence a
/// restart: <c>execve</c> of the same executable with the same arguments, <c>LD_PRELOAD</c> and <c>MALLOC_CONF</c> set.
/// The process keeps its id, its standard streams and its parent.</para>
/// <para>Nothing happens (and the method returns) when: the OS is not Linux; <c>CIFAR_BATCHNORM_ALLOCATOR</c> is
/// <c>default</c> or <c>glibc</c> (the opt-out); <c>LD_PRELOAD</c> is already set (the user chose); the process was
/// already restarted once; or no <c>libjemalloc.so.2</c> is installed (Debian/Ubuntu: <c>apt-get install
/// libjemalloc2</c>; or name the file in <c>CIFAR_BATCHNORM_JEMALLOC</c>). A <c>MALLOC_CONF</c> the user set is kept.</para>
/// <para>Without jemalloc (not installed, or <c>CIFAR_BATCHNORM_ALLOCATOR=glibc</c>) the process restarts once on glibc
/// tuned from its first thread: <c>MALLOC_ARENA_MAX=1</c>, <c>MALLOC_MMAP_MAX_=0</c> and a huge
/// <c>MALLOC_TRIM_THRESHOLD_</c> in the environment (a full CIFAR-10-sized run: 743 MB peak and flat, against 828 MB when
/// the same settings came from <c>mallopt</c> after start-up, when the runtime's first threads already had their
/// arenas). Glibc variables the user set win: then there is no restart.</para>
/// <para>Call it first thing in <c>Main</c>, before any other thread or native library is started: the CLI does.</para>
/// </remarks>
internal static class JemallocLauncher
{
    /// <summary>Environment variable naming the jemalloc library to preload, when it is not in a standard place.</summary>
    public const string LibraryVariable = "CIFAR_BATCHNORM_JEMALLOC";

    /// <summary>jemalloc options used unless the user set <c>MALLOC_CONF</c>: never give freed pages back to the OS.</summary>
    public const string DefaultMallocConf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";

    /// <summary>Set in the restarted process, so that a failed preload cannot restart it again.</summary>
    internal const string RestartedVariable = "CIFAR_BATCHNORM_RESTARTED";

    private static readonly string[] SearchFolders =
    [
        "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", "/lib/x86_64-linux-gnu",
    ];

    /// <summary>
    /// Replaces the process by the same program with jemalloc preloaded, when that applies; otherwise returns why not.
    /// </summary>
    /// <returns>Why the process was not restarted (a successful restart does not return).</returns>
    public static JemallocRestart RestartIfAvailable()
    {
        var decision = Decide(Environment.GetEnvironmentVariables(), OperatingSystem.IsLinux(), File.Exists);
        if (decision.Outcome is not (JemallocRestart.Restarting or JemallocRestart.RestartingGlibc))
        {
            return decision.Outcome;
        }

        string[] arguments = ReadCommandLine();
        if (arguments.Length == 0)
        {
            return JemallocRestart.Failed;
        }

        string[] environment = [.. decision.Environment!.Select(pair => $"{pair.Key}={pair.Value}")];
        _ = NativeMethods.execve("/proc/self/exe", [.. arguments, null], [.. environment, null]);
        return JemallocRestart.Failed; // execve returns only on failure; carry on with the allocator we have
    }

    /// <summary>The decision, without side effects: what to do and the environment of the restarted process.</summary>
    internal static (JemallocRestart Outcome, SortedDictionary<string, string>? Environment, string? Library) Decide(
        IDictionary current, bool isLinux, Func<string, bool> fileExists)
    {
        string? Get(string name) => current[name] as string;
        if (!isLinux)
        {
            return (JemallocRestart.NotLinux, null, null);
        }

        var choice = TorchRuntime.ParseAllocatorChoice(Get(TorchRuntime.AllocatorVariable));
        if (choice == AllocatorChoice.Default)
        {
            return (JemallocRestart.OptedOut, null, null);
        }

        if (!string.IsNullOrEmpty(Get(RestartedVariable)))
        {
            return (JemallocRestart.AlreadyRestarted, null, null);
        }

        if (choice == AllocatorChoice.Glibc)
        {
            return TunedGlibc(current, JemallocRestart.OptedOut);
        }

        if (!string.IsNullOrEmpty(Get("LD_PRELOAD")))
        {
            return (JemallocRestart.PreloadSet, null, null);
        }

        string? library = Get(LibraryVariable) is { Length: > 0 } named
            ? (fileExists(named) ? named : null)
            : SearchFolders.Select(folder => Path.Combine(folder, "libjemalloc.so.2")).FirstOrDefault(fileExists);
        if (library is null)
        {
            return TunedGlibc(current, JemallocRestart.NotInstalled);
        }

        var environment = Copy(current);
        environment["LD_PRELOAD"] = library;
        environment[RestartedVariable] = "1";
        if (string.IsNullOrEmpty(Get("MALLOC_CONF")))
        {
            environment["MALLOC_CONF"] = DefaultMallocConf;
        }

        return (JemallocRestart.Restarting, environment, library);
    }

    /// <summary>glibc's variables the restart on glibc sets: one arena, freed buffers kept (no mmap, no trimming).</summary>
    internal static readonly IReadOnlyDictionary<string, string> GlibcTuning = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["MALLOC_ARENA_MAX"] = "1",
        ["MALLOC_MMAP_MAX_"] = "0",
        ["MALLOC_TRIM_THRESHOLD_"] = "68719476736",
    };

    /// <summary>The restart on tuned glibc, unless the user set one of glibc's variables (then <paramref name="otherwise"/>).</summary>
    private static (JemallocRestart Outcome, SortedDictionary<string, string>? Environment, string? Library) TunedGlibc(IDictionary current, JemallocRestart otherwise)
    {
        if (GlibcTuning.Keys.Any(name => current[name] is string))
        {
            return (otherwise, null, null);
        }

        var environment = Copy(current);
        foreach (var (name, value) in GlibcTuning)
        {
            environment[name] = value;
        }

        environment[RestartedVariable] = "1";
        environment[TorchRuntime.GlibcTunedVariable] = "1";
        return (JemallocRestart.RestartingGlibc, environment, null);
    }

    private static SortedDictionary<string, string> Copy(IDictionary current)
    {
        var environment = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in current)
        {
            if (entry.Key is string key && entry.Value is string value)
            {
                environment[key] = value;
            }
        }

        return environment;
    }

    /// <summary>This process's argv (<c>/proc/self/cmdline</c>: NUL-separated), e.g. <c>dotnet cifar-bn.dll train</c>.</summary>
    private static string[] ReadCommandLine()
    {
        try
        {
            byte[] bytes = File.ReadAllBytes("/proc/self/cmdline");
            return Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.None) is var parts && parts.Length > 0 && parts[^1].Length == 0
                ? parts[..^1]
                : parts;
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int execve(string path, string?[] argv, string?[] envp);
    }
}
