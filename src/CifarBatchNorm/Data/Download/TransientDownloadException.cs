namespace CifarBatchNorm.Data.Download;

/// <summary>A failure worth retrying (connection error, timeout, 5xx, 408, 429); the message is a lower-case clause.</summary>
internal sealed class TransientDownloadException : Exception
{
    public TransientDownloadException(string message) : base(message)
    {
    }

    public TransientDownloadException(string message, Exception inner) : base(message, inner)
    {
    }
}
