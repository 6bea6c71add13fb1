namespace CifarBatchNorm.Training;

/// <summary>A weights file is missing, corrupted, or from another architecture. The message names the file.</summary>
public sealed class ModelFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelFileException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
