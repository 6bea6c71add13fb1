using CifarBatchNorm.Runtime;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Everything a run needs from the process, decided once by the entry point (the CLI after parsing, a library user
/// at start-up, the tests through one fixture) and handed to every runner: the runtime settings in force (threads,
/// oneDNN cap, allocator), the execution policy (device, memory layouts, GC cadence), where the output goes and the
/// cancellation token. Runners build their models with <see cref="ModelPresets.Notebook(RunSession, Data.ImageShape, int, NormalizationVariant, double, IEnumerable{Augmentation}?, Layers.RenormClipping?)"/>,
/// which applies <see cref="Policy"/>, so no runner can forget it.
/// </summary>
public sealed class RunSession
{
    private RunSession(RuntimeSettings runtime, ExecutionPolicy policy, TextWriter output, CancellationToken cancellationToken)
    {
        Runtime = runtime;
        Policy = policy.SafeFor(runtime);
        Output = output;
        CancellationToken = cancellationToken;
    }

    /// <summary>The runtime settings in force (<see cref="TorchRuntime.Initialize"/>): threads, OpenMP wait policy, oneDNN cap, allocator.</summary>
    public RuntimeSettings Runtime { get; }

    /// <summary>How models run: device, memory layouts, collection cadence, evaluation batch.</summary>
    public ExecutionPolicy Policy { get; }

    /// <summary>Where banners, summaries, progress and results go.</summary>
    public TextWriter Output { get; }

    /// <summary>Stops a runner before its next step (Ctrl+C); what it finished is kept where it can be.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Rewords a library message that a run records for its user (<c>dataset_reason</c> in <c>config.json</c>, the
    /// sweep record and results) in the words of the entry point that started the session: a command line sets its
    /// flags in place of the library's property names. The default value keeps the message as it is.
    /// </summary>
    internal Func<string, string> Wording { get; set; } = static message => message;

    /// <summary>
    /// Puts the runtime settings in force (<see cref="TorchRuntime.Initialize"/>; the first call of the process sets the
    /// environment and allocator) and decides the execution policy for <paramref name="device"/>.
    /// </summary>
    /// <param name="device"><c>auto</c> (the default: CUDA when usable, else the CPU), <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</param>
    /// <param name="threads">Intra-op threads; <c>null</c> (the default) keeps the count in force (every core at first).</param>
    /// <param name="output">Where the runners write. The default value is none (<see cref="TextWriter.Null"/>).</param>
    /// <param name="cancellationToken">Stops runners before their next step. The default value is none.</param>
    /// <param name="avx512Convolutions">
    /// On the process's first session, let oneDNN run its AVX-512 kernels (<see cref="TorchRuntime.Initialize"/>); the
    /// session's policy then runs every convolution channels-last. The default value is <c>false</c> (the AVX2 cap).
    /// </param>
    /// <param name="threadedKernels">
    /// On the process's first session, split the fused kernels' passes across the intra-op threads, with libgomp's
    /// workers spinning briefly (<see cref="TorchRuntime.Initialize"/>). The default value is <c>false</c>.
    /// </param>
    /// <exception cref="ArgumentException">The device is unknown, or CUDA was asked for where it is not usable (<see cref="DeviceSelector.CudaUnavailableMessage"/>).</exception>
    public static RunSession Start(string device = DeviceSelector.Auto, int? threads = null, TextWriter? output = null, CancellationToken cancellationToken = default,
        bool avx512Convolutions = false, bool threadedKernels = false)
    {
        // The runtime first: resolving the device loads libtorch, and with it libgomp, which reads its environment
        // (OMP_WAIT_POLICY, GOMP_SPINCOUNT) once, when it loads.
        var runtime = TorchRuntime.Initialize(threads, avx512Convolutions, threadedKernels);
        var policy = ExecutionPolicy.For(DeviceSelector.Resolve(device));
        return new RunSession(runtime, policy, output ?? TextWriter.Null, cancellationToken);
    }

    /// <summary>
    /// This session with its models run under <paramref name="policy"/> (same runtime, output and cancellation), for
    /// example <c>session.WithPolicy(session.Policy with { FusedKernels = true })</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="policy"/> is for another device than the session's.</exception>
    public RunSession WithPolicy(ExecutionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Device.type != Policy.Device.type || policy.Device.index != Policy.Device.index)
        {
            throw new ArgumentException($"The policy is for {policy.Device} but the session runs on {Policy.Device}: start a session for that device.", nameof(policy));
        }

        return new RunSession(Runtime, policy, Output, CancellationToken) { Wording = Wording };
    }

    /// <summary>The session <paramref name="config"/> asks for: its <see cref="TrainConfig.Device"/> and <see cref="TrainConfig.Threads"/>.</summary>
    /// <param name="config">The run's settings.</param>
    /// <param name="output">Where the runners write. The default value is none.</param>
    /// <param name="cancellationToken">Stops runners before their next step. The default value is none.</param>
    public static RunSession For(TrainConfig config, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Start(config.Device, config.Threads, output, cancellationToken);
    }

    /// <summary>
    /// The session an interrupted run or sweep in <paramref name="folder"/> recorded: its device, the thread count it
    /// ran with (not this machine's default) and whether it ran the fused kernels, so that the resumed numbers are the
    /// uninterrupted ones.
    /// </summary>
    /// <param name="folder">A run folder (<c>config.json</c>) or a sweep folder (<c>sweep.json</c>).</param>
    /// <param name="output">Where the runners write. The default value is none.</param>
    /// <param name="cancellationToken">Stops runners before their next step. The default value is none.</param>
    /// <exception cref="ModelFileException">The folder holds no record to resume from.</exception>
    public static RunSession Resume(string folder, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        var recorded = Recorded(folder);
        var session = Start(recorded.Config.Device, recorded.Threads, output, cancellationToken, TorchRuntime.AllowsAvx512(recorded.OneDnnIsa), recorded.FusedKernels);
        return recorded.FusedKernels ? session.WithPolicy(session.Policy.WithFusedKernels()) : session;
    }

    /// <summary>Whether <paramref name="folder"/> holds the record of a run (<c>config.json</c>) or a sweep (<c>sweep.json</c>).</summary>
    internal static bool HasRecord(string folder) =>
        File.Exists(Path.Combine(folder, SweepFolder.RecordFile)) || File.Exists(Path.Combine(folder, RunFolder.ConfigFile));

    /// <summary>
    /// What a run or sweep folder recorded about how it ran, read once: its training settings, its thread count, its
    /// oneDNN cap (<c>null</c> when it recorded none) and whether it ran <see cref="ExecutionPolicy.FusedKernels"/>.
    /// </summary>
    internal static RecordedRun Recorded(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var run = RunFolder.OpenExisting(folder);
        if (File.Exists(run.File(SweepFolder.RecordFile)))
        {
            var sweep = run.ReadJson<RecordedSweep>(SweepFolder.RecordFile);
            var training = sweep.Config?.Training ?? throw new ModelFileException($"{run.File(SweepFolder.RecordFile)} records no training settings.");
            return new RecordedRun(training, sweep.Runtime?.Threads ?? training.Threads, sweep.Runtime?.OneDnnMaxIsa, RanFused(sweep.Execution));
        }

        if (File.Exists(run.File(RunFolder.ConfigFile)))
        {
            var record = run.ReadJson<RunRecord>(RunFolder.ConfigFile);
            return new RecordedRun(record.Config, record.Runtime?.Threads ?? record.Config.Threads, record.Runtime?.OneDnnMaxIsa, RanFused(record.Execution));
        }

        throw new ModelFileException($"{run.Path} holds neither {RunFolder.ConfigFile} (a run) nor {SweepFolder.RecordFile} (a sweep): there is nothing to resume.");

        static bool RanFused(string? execution) => execution?.Contains(ExecutionPolicy.FusedKernelsLabel, StringComparison.Ordinal) == true;
    }

    /// <summary>How a recorded run or sweep ran (<see cref="Recorded"/>).</summary>
    internal sealed record RecordedRun(TrainConfig Config, int? Threads, string? OneDnnIsa, bool FusedKernels);

    /// <summary>
    /// Throws unless this session runs what <paramref name="config"/> asks for: its device, and its thread count (or,
    /// for a resumed run, <paramref name="recordedThreads"/>, the count it ran with).
    /// </summary>
    /// <exception cref="ArgumentException">The session was started for another device or thread count; the message says how to start the right one.</exception>
    internal void Check(TrainConfig config, int? recordedThreads = null)
    {
        var asked = DeviceSelector.Resolve(config.Device);
        if (asked.type != Policy.Device.type || asked.index != Policy.Device.index)
        {
            throw new ArgumentException(
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.Device)} {config.Device} selects {asked}, but the session runs on {Policy.Device}: start the session with {nameof(RunSession)}.{nameof(For)}(config).",
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.Device)}");
        }

        if ((recordedThreads ?? config.Threads) is int threads && threads != Runtime.Threads)
        {
            throw new ArgumentException(
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.Threads)} {threads} (as recorded) differs from the session's {Runtime.Threads} threads: start the session with {nameof(RunSession)}.{(recordedThreads is null ? nameof(For) + "(config)" : nameof(Resume) + "(folder)")}.",
                $"{nameof(TrainConfig)}.{nameof(TrainConfig.Threads)}");
        }
    }

    /// <summary>The parts of a sweep record that say how it ran (both sweeps record these names).</summary>
    private sealed record RecordedSweep(RecordedSweepConfig? Config, RuntimeSettings? Runtime, string? Execution);

    private sealed record RecordedSweepConfig(TrainConfig? Training);
}
