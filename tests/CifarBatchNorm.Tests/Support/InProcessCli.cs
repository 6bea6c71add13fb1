using CifarBatchNorm.Cli;

namespace CifarBatchNorm.Tests.Support;

/// <summary>Runs the command line in this process with captured output (<c>using static</c> it in CLI tests).</summary>
internal static class InProcessCli
{
    /// <summary>Runs <c>cifar-bn</c> with <paramref name="args"/>; returns the exit code and what it printed.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args) => RunUntil(CancellationToken.None, args);

    /// <summary>Runs <c>cifar-bn</c> with <paramref name="args"/> and the Ctrl+C token <paramref name="cancellationToken"/>.</summary>
    public static (int Code, string Out, string Err) RunUntil(CancellationToken cancellationToken, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = App.Run(args, stdout, stderr, cancellationToken);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
