namespace CifarBatchNorm.Data.Download;

/// <summary>
/// A failed attempt that will be retried, reported before the wait to a progress reporter of
/// <see cref="Cifar10Downloader.EnsureAsync"/> that also implements <see cref="IProgress{T}"/> of this type.
/// </summary>
/// <param name="Attempt">The attempt that failed, from 1.</param>
/// <param name="Attempts">Attempts in all (<see cref="DownloadOptions.MaxRetries"/> + 1).</param>
/// <param name="Delay">The wait before the next attempt.</param>
/// <param name="Reason">Why the attempt failed (first line of the error).</param>
public sealed record DownloadRetry(int Attempt, int Attempts, TimeSpan Delay, string Reason)
{
    /// <summary>One line for a log, e.g. <c>Attempt 1 of 5 failed (HTTP 500); retrying in 1 s.</c></summary>
    public string Describe() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"Attempt {Attempt} of {Attempts} failed ({Reason.TrimEnd('.')}); retrying in {(Delay.TotalSeconds >= 1 ? $"{Delay.TotalSeconds:0.#} s" : $"{Delay.TotalMilliseconds:0} ms")}.");
}
