namespace CifarBatchNorm.Cli;

/// <summary>A run stopped early with its checkpoint kept; the message says where and how to resume.</summary>
internal sealed class RunStoppedException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
