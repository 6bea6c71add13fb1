using CifarBatchNorm.Callbacks;

namespace CifarBatchNorm.Tests.Support;

/// <summary>Cancels a run's token at the end of the given epoch, as Ctrl+C would.</summary>
internal sealed class CancelAfter(int epoch, CancellationTokenSource source) : Callback
{
    public override void OnEpochEnd(int e, IDictionary<string, double> logs)
    {
        if (e == epoch)
        {
            source.Cancel();
        }
    }
}
