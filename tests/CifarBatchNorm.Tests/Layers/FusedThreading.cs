using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Tests.Layers;

/// <summary>Runs a body with the fused kernels' loops on the thread pool (whatever their size) or serial, and restores the switches after.</summary>
internal static class FusedThreading
{
    public static T With<T>(bool threaded, Func<T> body)
    {
        bool before = FusedBatchNorm.Threaded;
        int minimum = FusedBatchNorm.MinThreadedFloats;
        FusedBatchNorm.Threaded = threaded;
        FusedBatchNorm.MinThreadedFloats = 0;
        try
        {
            return body();
        }
        finally
        {
            FusedBatchNorm.Threaded = before;
            FusedBatchNorm.MinThreadedFloats = minimum;
        }
    }
}
