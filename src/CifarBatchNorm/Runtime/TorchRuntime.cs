using System.Runtime.InteropServices;
using TorchSharp;

namespace CifarBatchNorm.Runtime;

/// <summary>
/// Start-up routine that makes TorchSharp correct and fast on CPU. Call <see cref="Initialize"/>
/// once, before the first torch call of the process (the CLI and the tests do).
/// </summary>
/// <remarks>
/// <para>It does four things, each with an opt-out:</para>
/// <list type="bullet">
/// <item><description>Caps oneDNN at AVX2 (<c>ONEDNN_MAX_CPU_ISA=AVX2</c>) through libc <c>setenv</c>, because the
/// AVX-512 convolution kernels of the oneDNN bundled with TorchSharp 0.107 return wrong or NaN input gradients for
/// NCHW convolutions with 8 output channels. Asked for (<c>avx512Convolutions</c>), it lets oneDNN use AVX-512
/// (<c>ALL</c>) instead: those kernels are right channels-last, and every convolution then runs channels-last
/// (<see cref="RuntimeSettings.OneDnnAvx512"/>). A value the user already set is kept.</description></item>
/// <item><description>Keeps freed buffers in the process (glibc <c>mallopt</c>; not needed on jemalloc): without it every
/// training step faults its memory in again and runs about three times slower; and limits glibc to one arena
/// (less heap growth; skipped when <c>MALLOC_ARENA_MAX</c> is set). Skipped when the user set
/// <c>MALLOC_MMAP_MAX_</c> or <c>MALLOC_TRIM_THRESHOLD_</c>, or set <c>CIFAR_BATCHNORM_ALLOCATOR=default</c>.</description></item>
/// <item><description>Sets the intra-op thread count (default: the number of cores).</description></item>
/// <item><description>Makes idle OpenMP threads sleep at once (<c>OMP_WAIT_POLICY=PASSIVE</c>) when other processes
/// keep at least half a core busy at start-up (sampled for 0.1 s): on shared cores, spinning workers take the CPU
/// from the ones doing the work (a 2-thread step took 1.5-5x longer). On an idle machine libgomp's default (spin
/// briefly, then sleep) is kept: 20-35% faster per step than PASSIVE; with threaded fused kernels the spin is
/// shortened to 10,000 rounds (<c>GOMP_SPINCOUNT</c>), so their other threads find their cores free. A value the user
/// set is kept.</description></item>
/// </list>
/// <para><c>Environment.SetEnvironmentVariable</c> does not reach native code, hence libc's <c>setenv</c>.</para>
/// </remarks>
public static class TorchRuntime
{
    /// <summary>Environment variable read by oneDNN that caps its instruction set.</summary>
    public const string OneDnnIsaVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>Environment variable read by OpenMP (libgomp) that says whether idle threads spin or sleep.</summary>
    public const string OmpWaitPolicyVariable = "OMP_WAIT_POLICY";

    /// <summary>Environment variable read by libgomp: how many rounds an idle worker spins before it sleeps.</summary>
    public const string OmpSpinCountVariable = "GOMP_SPINCOUNT";

    /// <summary>The spin of libgomp's idle workers with threaded kernels (libgomp's default is 300,000 rounds).</summary>
    public const int KernelSpinCount = 10_000;

    /// <summary><see cref="RuntimeSettings.OmpWaitPolicy"/> with threaded kernels: idle workers spin <see cref="KernelSpinCount"/> rounds, then sleep.</summary>
    public const string BriefSpinThenSleep = "spin 10000 rounds then sleep (threaded kernels)";

    /// <summary>Set to <c>default</c> to leave glibc's allocator settings alone.</summary>
    public const string AllocatorVariable = "CIFAR_BATCHNORM_ALLOCATOR";

    private const int MallocTrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MallocMmapMax = -4;       // M_MMAP_MAX
    private const int MallocArenaMax = -8;      // M_ARENA_MAX

    /// <summary><see cref="RuntimeSettings.OmpWaitPolicy"/> when libgomp's default is kept (spin briefly, then sleep).</summary>
    public const string SpinThenSleep = "spin then sleep (libgomp default)";

    /// <summary>Cores that other processes must keep busy at start-up for idle OpenMP workers to sleep at once.</summary>
    private const double BusyCoresForPassive = 0.5;

    private static readonly Lock Gate = new();
    private static RuntimeSettings? s_settings;

    /// <summary>The settings in force, or <c>null</c> before <see cref="Initialize"/>.</summary>
    public static RuntimeSettings? Current => s_settings;

    /// <summary>
    /// Applies the runtime settings. Call it once at start-up, before the first torch call (the CLI's <c>Program</c>
    /// and the test assembly do; library code never calls it). Safe to call again: the environment and allocator are
    /// set on the first call only; a thread count is applied whenever one is given, and <c>null</c> keeps the one in force.
    /// </summary>
    /// <param name="threads">Intra-op threads; <c>null</c> (the default) means every core on the first call and no change later.</param>
    /// <param name="avx512Convolutions">
    /// Let oneDNN use AVX-512 (where the CPU has it) instead of the AVX2 cap: the 16-channel convolutions' backward
    /// passes are about twice as fast, and every convolution then runs channels-last, where those kernels are right
    /// (<see cref="RuntimeSettings.OneDnnAvx512"/>). Their rounding differs from the AVX2 kernels', so a seed's numbers
    /// change with it. Applies on the first call of the process only; the default value is <c>false</c>.
    /// </param>
    /// <param name="threadedKernels">
    /// Split the passes of the fused C# kernels (<c>ExecutionPolicy.FusedKernels</c>) across the intra-op threads, and
    /// let libgomp's idle workers spin for <see cref="KernelSpinCount"/> rounds instead of its default 300,000
    /// (<c>GOMP_SPINCOUNT</c>, unless the user set it) so the kernels' other threads find their cores free: a spinning
    /// worker held the core for longer than most of those passes take, and the split then gained nothing. Applies on
    /// the first call of the process only; same results either way (the blocks and the order of their sums are fixed).
    /// The default value is <c>false</c>.
    /// </param>
    /// <returns>What is in force.</returns>
    public static RuntimeSettings Initialize(int? threads = null, bool avx512Convolutions = false, bool threadedKernels = false)
    {
        if (threads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1.");
        }

        lock (Gate)
        {
            if (s_settings is null)
            {
                _ = ParseAllocatorChoice(Environment.GetEnvironmentVariable(AllocatorVariable));
                string isa = CapOneDnn(avx512Convolutions);
                string waitPolicy = ChooseWaitPolicy(threadedKernels);
                s_settings = new RuntimeSettings(isa, ChooseAllocator(), waitPolicy, 0, threadedKernels);
                Layers.FusedBatchNorm.Threaded = threadedKernels;
            }

            int count = threads ?? (s_settings.Threads > 0 ? s_settings.Threads : Environment.ProcessorCount);
            if (s_settings.Threads != count)
            {
                torch.set_num_threads(count);
                s_settings = s_settings with { Threads = count };
            }

            return s_settings;
        }
    }

    /// <summary>
    /// The settings in force. Training requires them: <c>Fit</c> and <c>TrainOnBatch</c> of a <c>Sequential</c> and every
    /// experiment call this first, because without <see cref="Initialize"/> the AVX-512 kernels of the bundled oneDNN can
    /// compute wrong or NaN convolution gradients and every step faults its memory in again.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="Initialize"/> has not run; the message says what to call.</exception>
    public static RuntimeSettings Require() => Current ?? throw new InvalidOperationException(
        "TorchRuntime.Initialize() has not run: call it once at start-up, before the first torch call and before training "
        + "(it caps oneDNN at AVX2, whose AVX-512 kernels compute wrong convolution gradients on some CPUs, and keeps freed memory warm).");

    /// <summary>Replaces the settings in force and returns the previous ones: lets a test see the process as if <see cref="Initialize"/> had not run.</summary>
    internal static RuntimeSettings? Exchange(RuntimeSettings? settings)
    {
        lock (Gate)
        {
            var previous = s_settings;
            s_settings = settings;
            return previous;
        }
    }

    /// <summary>
    /// Idle OpenMP workers spin for a while before they sleep (libgomp's default), which is 20-35% faster per step on
    /// an otherwise idle machine; when other processes already keep at least half a core busy, spinning workers take
    /// the CPU from the ones doing the work (1.5-1.8x slower), so they sleep at once (<c>PASSIVE</c>).
    /// </summary>
    /// <remarks>
    /// With <paramref name="threadedKernels"/> the spin is shortened to <see cref="KernelSpinCount"/> rounds
    /// (<c>GOMP_SPINCOUNT</c>, where the user set neither it nor <c>OMP_WAIT_POLICY</c>).
    /// </remarks>
    private static string ChooseWaitPolicy(bool threadedKernels)
    {
        if (Environment.GetEnvironmentVariable(OmpWaitPolicyVariable) is { Length: > 0 } chosen)
        {
            return chosen;
        }

        string policy = WaitPolicyFor(OperatingSystem.IsLinux() ? CpuLoad.OthersBusyCores(TimeSpan.FromMilliseconds(100)) : null);
        if (policy != SpinThenSleep)
        {
            SetNativeDefault(OmpWaitPolicyVariable, policy);
            return policy;
        }

        if (Environment.GetEnvironmentVariable(OmpSpinCountVariable) is { Length: > 0 } spins)
        {
            return $"spin {spins} rounds then sleep ({OmpSpinCountVariable})";
        }

        if (threadedKernels)
        {
            SetNativeDefault(OmpSpinCountVariable, KernelSpinCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return BriefSpinThenSleep;
        }

        return policy;
    }

    /// <summary>The wait policy for the cores that other processes keep busy (<c>null</c>: unknown).</summary>
    internal static string WaitPolicyFor(double? othersBusyCores) =>
        othersBusyCores >= BusyCoresForPassive ? "PASSIVE" : SpinThenSleep;

    /// <summary>The values oneDNN 3.x accepts for <c>ONEDNN_MAX_CPU_ISA</c> (x64), in upper case.</summary>
    internal static readonly IReadOnlySet<string> OneDnnIsaValues = new HashSet<string>(StringComparer.Ordinal)
    {
        "ALL", "DEFAULT", "SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI",
        "AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16", "AVX10_1_512",
        "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16",
    };

    /// <summary>Throws unless <paramref name="value"/> (the user's <c>ONEDNN_MAX_CPU_ISA</c>) is one oneDNN knows: an unknown value is ignored by oneDNN silently.</summary>
    /// <exception cref="ArgumentException">The value is unknown; the message names the variable and the known values.</exception>
    internal static void CheckOneDnnIsa(string? value)
    {
        if (!string.IsNullOrEmpty(value) && !OneDnnIsaValues.Contains(value.Trim().ToUpperInvariant()))
        {
            throw new ArgumentException(
                $"{OneDnnIsaVariable}={value} is not an instruction set oneDNN knows, so it would be ignored: unset it (the default caps at AVX2) or use one of {string.Join(", ", OneDnnIsaValues.Order(StringComparer.Ordinal))}.");
        }
    }

    private static string CapOneDnn(bool avx512)
    {
        CheckOneDnnIsa(Environment.GetEnvironmentVariable(OneDnnIsaVariable));
        return SetNativeDefault(OneDnnIsaVariable, avx512 ? "ALL" : "AVX2");
    }

    /// <summary>The oneDNN caps below AVX-512 (x64).</summary>
    private static readonly IReadOnlySet<string> BelowAvx512 = new HashSet<string>(StringComparer.Ordinal) { "SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2" };

    /// <summary>Whether the oneDNN cap <paramref name="isa"/> lets oneDNN run AVX-512 kernels (on a CPU that has them).</summary>
    internal static bool AllowsAvx512(string? isa) =>
        !string.IsNullOrWhiteSpace(isa) && OneDnnIsaValues.Contains(isa.Trim().ToUpperInvariant()) && !BelowAvx512.Contains(isa.Trim().ToUpperInvariant());

    /// <summary>Sets an environment variable for native code unless the user set it; returns the value in force.</summary>
    private static string SetNativeDefault(string name, string value)
    {
        string? existing = Environment.GetEnvironmentVariable(name);
        if (!string.IsNullOrEmpty(existing))
        {
            return existing;
        }

        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            _ = NativeMethods.setenv(name, value, 1); // unset or empty here: an empty value must be replaced too, or native code keeps it
        }
        else if (OperatingSystem.IsWindows())
        {
            _ = NativeMethods._putenv_s(name, value);
        }

        Environment.SetEnvironmentVariable(name, value);
        return value;
    }

    /// <summary>Parses a value of <c>CIFAR_BATCHNORM_ALLOCATOR</c>: unset or empty, <c>glibc</c> or <c>default</c>.</summary>
    /// <exception cref="ArgumentException">Any other value; the message names the variable and the allowed values.</exception>
    internal static AllocatorChoice ParseAllocatorChoice(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" => AllocatorChoice.Auto,
        "glibc" => AllocatorChoice.Glibc,
        "default" => AllocatorChoice.Default,
        _ => throw new ArgumentException($"{AllocatorVariable}={value} is not a known allocator choice: leave it unset (jemalloc when installed), or set glibc or default."),
    };

    /// <summary>
    /// Set (to <c>1</c>) by a launcher that started the process with glibc's allocator tuned through
    /// <c>MALLOC_ARENA_MAX=1</c>, <c>MALLOC_MMAP_MAX_=0</c> and <c>MALLOC_TRIM_THRESHOLD_</c> (the CLI does), so those variables
    /// are not taken for the user's own settings.
    /// </summary>
    public const string GlibcTunedVariable = "CIFAR_BATCHNORM_GLIBC_TUNED";

    /// <summary>Names the allocator in use, tuning glibc's where it is the one.</summary>
    private static NativeAllocator ChooseAllocator()
    {
        if (!OperatingSystem.IsLinux())
        {
            return NativeAllocator.System;
        }

        if (JemallocLoaded())
        {
            return NativeAllocator.Jemalloc;
        }

        if (Environment.GetEnvironmentVariable(GlibcTunedVariable) == "1")
        {
            return NativeAllocator.GlibcTuned; // the CLI restarted on glibc tuned through its variables, from the first thread
        }

        if (ParseAllocatorChoice(Environment.GetEnvironmentVariable(AllocatorVariable)) == AllocatorChoice.Default
            || Environment.GetEnvironmentVariable("MALLOC_MMAP_MAX_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
        {
            return NativeAllocator.GlibcDefault;
        }

        try
        {
            bool kept = NativeMethods.mallopt(MallocMmapMax, 0) == 1 & NativeMethods.mallopt(MallocTrimThreshold, int.MaxValue) == 1;
            if (kept && Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null)
            {
                // One arena: with the per-thread arenas of the OpenMP workers the heap kept growing (6.4% from epoch 2
                // to 10 of a CIFAR-10-sized run); with one it stayed flat (0.00%), at the same step time.
                _ = NativeMethods.mallopt(MallocArenaMax, 1);
            }

            return kept ? NativeAllocator.GlibcTuned : NativeAllocator.GlibcDefault;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return NativeAllocator.System; // not glibc (musl has no mallopt)
        }
    }

    /// <summary>Whether jemalloc is loaded in this process (preloaded by the CLI's launcher or by the user).</summary>
    private static bool JemallocLoaded()
    {
        try
        {
            return File.ReadAllText("/proc/self/maps").Contains("libjemalloc", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int setenv(string name, string value, int overwrite);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int mallopt(int param, int value);

        [DllImport("ucrtbase", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int _putenv_s(string name, string value);
    }
}
