namespace CifarBatchNorm.Data.Download;

/// <summary>A snapshot of a running download, reported after each block written.</summary>
/// <param name="BytesReceived">Bytes in the file so far, including those of a resumed partial file.</param>
/// <param name="TotalBytes">Expected size of the whole file.</param>
/// <param name="BytesPerSecond">Average speed of this transfer (resumed bytes excluded); 0 before the first block.</param>
/// <param name="Eta">Estimated time left at that speed, or <c>null</c> while the speed is unknown.</param>
public sealed record DownloadProgress(long BytesReceived, long TotalBytes, double BytesPerSecond, TimeSpan? Eta)
{
    /// <summary>Fraction done, 0 to 1.</summary>
    public double Fraction => TotalBytes <= 0 ? 0 : Math.Clamp((double)BytesReceived / TotalBytes, 0, 1);

    /// <summary>Whether every byte has arrived.</summary>
    public bool IsComplete => BytesReceived >= TotalBytes;
}
