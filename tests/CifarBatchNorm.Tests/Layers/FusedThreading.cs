using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Tests.Layers;

/// <summary>Runs a body with the fused kernels' loops on the thread pool or serial, and restores the switch after.</summary>
internal static class FusedThreading
{
    public static T With<T>(bool threaded, Func<T> body)
    {
        bool before = FusedBatchNorm.Threaded;
        FusedBatchNorm.Threaded = threaded;
        try
        {
            return body();
        }
        finally
        {
            FusedBatchNorm.Threaded = before;
        }
    }
}
