using System.CommandLine;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Runtime;

namespace CifarBatchNorm.Cli;

/// <summary>
/// What one invocation of <c>cifar-bn</c> hands its command: the output, the Ctrl+C token, and the
/// <see cref="RunSession"/>, built once after parsing, the first time a command asks for it (commands that touch no
/// model, such as <c>download</c> or <c>compare merge</c>, never start torch). The session follows the parsed options
/// the same way for every command: <c>--resume DIR</c> takes the device and threads DIR recorded (<see cref="RunSession.Resume"/>); otherwise
/// <c>--device</c> (or the command's <see cref="CliCommand.Device"/>) and <c>--threads</c>. <c>--fused-kernels</c> (train, compare,
/// bench) runs <see cref="Training.ExecutionPolicy.WithFusedKernels"/> and lets oneDNN run AVX-512 (every convolution
/// channels-last); a resumed run or sweep keeps what it recorded.
/// </summary>
/// <param name="stdout">Where results go.</param>
/// <param name="stderr">Where warnings and errors go.</param>
/// <param name="cancellationToken">Set by the first Ctrl+C or SIGTERM.</param>
internal sealed class CliSession(TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
{
    private RunSession? _session;

    /// <summary>Where results go.</summary>
    public TextWriter Stdout { get; } = stdout;

    /// <summary>Where warnings and errors go.</summary>
    public TextWriter Stderr { get; } = stderr;

    /// <summary>Set by the first Ctrl+C or SIGTERM.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>The parsed command line (set by <see cref="App"/> before the command runs).</summary>
    internal ParseResult? Parsed { get; set; }

    /// <summary>The session of this invocation, started on first use.</summary>
    public RunSession Session => _session ??= Worded(Start(Parsed ?? throw new InvalidOperationException("The command line has not been parsed.")));

    /// <summary>What a run records for its user (<c>dataset_reason</c>) names the command line's flags (<c>--url</c>, not <c>DownloadOptions.Url</c>).</summary>
    private static RunSession Worded(RunSession session)
    {
        session.Wording = CliMessages.ForUser;
        return session;
    }

    private RunSession Start(ParseResult parsed)
    {
        bool fused = Value<bool>(parsed, "--fused-kernels");
        var session = StartForDevice(parsed, fused);
        return fused ? session.WithPolicy(session.Policy.WithFusedKernels()) : session;
    }

    /// <summary>The session for the device and threads asked for; <paramref name="fused"/> also lets oneDNN run AVX-512 (all convolutions channels-last) and threads the fused kernels.</summary>
    private RunSession StartForDevice(ParseResult parsed, bool fused)
    {
        var command = parsed.CommandResult.Command;

        // --resume DIR runs as DIR recorded; a folder without a record is left to the runner, which says what it lacks.
        if (Value<string?>(parsed, "--resume") is string resumed && RunSession.HasRecord(Path.GetFullPath(resumed)))
        {
            return RunSession.Resume(Path.GetFullPath(resumed), Stdout, CancellationToken);
        }

        int? threads = Value<int?>(parsed, "--threads");
        if (threads is int count && count > Environment.ProcessorCount)
        {
            Stderr.WriteLine($"warning: --threads {count} is more than the {Environment.ProcessorCount} cores here; oversubscribed threads make every step slower.");
        }

        string device = Value<string>(parsed, "--device") ?? (command as CliCommand)?.Device ?? DeviceSelector.Auto;
        return RunSession.Start(device, threads, Stdout, CancellationToken, avx512Convolutions: fused, threadedKernels: fused);
    }

    /// <summary>The value of the option named <paramref name="name"/> of the parsed command, or the default when the command has none.</summary>
    private static T? Value<T>(ParseResult parsed, string name) =>
        parsed.CommandResult.Command.Options.OfType<Option<T>>().FirstOrDefault(o => o.Name == name) is { } option ? parsed.GetValue(option) : default;
}
