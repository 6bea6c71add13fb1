using System.Runtime.InteropServices;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Runtime;

// Before anything else: re-run this same command with jemalloc preloaded when it is installed (flat memory in long
// runs; opt out with CIFAR_BATCHNORM_ALLOCATOR=glibc or default). Returns here when it does not apply.
try
{
    _ = JemallocLauncher.RestartIfAvailable();
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.UsageError;
}

using var cancellation = new CancellationTokenSource();

// The first Ctrl+C or SIGTERM asks a command that stops cleanly (each declares it: CliCommand.StopsGracefully) to stop
// between two steps; a command that does not, or a second signal, ends the process at once.
bool stopsGracefully = App.StopsGracefully(args);
bool StopGracefully()
{
    if (!stopsGracefully || cancellation.IsCancellationRequested)
    {
        return false;
    }

    cancellation.Cancel();
    return true;
}

Console.CancelKeyPress += (_, e) => e.Cancel = StopGracefully();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => context.Cancel = StopGracefully());

return App.Run(args, Console.Out, Console.Error, cancellation.Token);
