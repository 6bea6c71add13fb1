using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Tests.Support;

/// <summary>The tests' one way to get a <see cref="RunSession"/>: the runtime the module initializer put in force, the CPU or the GPU as <c>auto</c> finds.</summary>
internal static class TestSession
{
    /// <summary>A session writing to <paramref name="output"/> (none by default), stopped by <paramref name="cancellationToken"/>.</summary>
    public static RunSession Start(TextWriter? output = null, CancellationToken cancellationToken = default) =>
        RunSession.Start(output: output ?? TextWriter.Null, cancellationToken: cancellationToken);
}
