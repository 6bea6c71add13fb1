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
        if (decision.Outcome != JemallocRestart.Restarting)
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

        if (TorchRuntime.ParseAllocatorChoice(Get(TorchRuntime.AllocatorVariable)) != AllocatorChoice.Auto)
        {
            return (JemallocRestart.OptedOut, null, null);
        }

        if (!string.IsNullOrEmpty(Get("LD_PRELOAD")))
        {
            return (JemallocRestart.PreloadSet, null, null);
        }

        if (!string.IsNullOrEmpty(Get(RestartedVariable)))
        {
            return (JemallocRestart.AlreadyRestarted, null, null);
        }

        string? library = Get(LibraryVariable) is { Length: > 0 } named
            ? (fileExists(named) ? named : null)
            : SearchFolders.Select(folder => Path.Combine(folder, "libjemalloc.so.2")).FirstOrDefault(fileExists);
        if (library is null)
        {
            return (JemallocRestart.NotInstalled, null, null);
        }

        var environment = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in current)
        {
            if (entry.Key is string key && entry.Value is string value)
            {
                environment[key] = value;
            }
        }

        environment["LD_PRELOAD"] = library;
        environment[RestartedVariable] = "1";
        if (string.IsNullOrEmpty(Get("MALLOC_CONF")))
        {
            environment["MALLOC_CONF"] = DefaultMallocConf;
        }

        return (JemallocRestart.Restarting, environment, library);
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
