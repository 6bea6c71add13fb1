namespace CifarBatchNorm.Data;

/// <summary>A data file is missing, truncated or not in the expected format. The message names the file.</summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DataFormatException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with the error that caused it.</summary>
    public DataFormatException(string message, Exception inner) : base(message, inner)
    {
    }
}
