namespace CifarBatchNorm.Data;

/// <summary>A dataset's files are not where it was looked for. The message says where and how to get them.</summary>
public sealed class DatasetNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DatasetNotFoundException(string message) : base(message)
    {
    }
}
