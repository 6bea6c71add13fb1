namespace CifarBatchNorm.Data.Download;

/// <summary>
/// Downloading, verifying or extracting the dataset failed. The one-line message names the URL, file or archive
/// member involved, what was expected, and what was done with the file (kept for resuming, or deleted).
/// </summary>
public sealed class DownloadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DownloadException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with the error that caused it.</summary>
    public DownloadException(string message, Exception inner) : base(message, inner)
    {
    }
}
