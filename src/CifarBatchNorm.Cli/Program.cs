using System.Runtime.InteropServices;
using CifarBatchNorm.Cli;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // let training stop cleanly between two steps
    cancellation.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});

return App.Run(args, Console.Out, Console.Error, cancellation.Token);
