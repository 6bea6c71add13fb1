namespace CifarBatchNorm.Cli;

/// <summary>Process exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int UserError = 1;
    public const int UsageError = 2;
    public const int Interrupted = 130;
}
