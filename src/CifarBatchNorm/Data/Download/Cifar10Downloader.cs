using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace CifarBatchNorm.Data.Download;

/// <summary>
/// Makes sure the CIFAR-10 binary files are in a data folder: downloads <c>cifar-10-binary.tar.gz</c> (resuming a
/// partial file), verifies its size, MD5 and SHA-256, extracts the expected members and moves the folder into place.
/// </summary>
/// <remarks>
/// <para>Files in the data folder, in the order they appear:</para>
/// <list type="number">
/// <item><description><c>cifar-10-binary.tar.gz.partial</c>: bytes received so far, locked while written. A later run
/// resumes it with an HTTP <c>Range</c> request (a server that answers 200 instead of 206 restarts it from zero).
/// It is deleted when its checksums do not match.</description></item>
/// <item><description><c>cifar-10-binary.tar.gz</c>: the partial file renamed once all three checks passed, so this
/// name always holds a verified archive. It is deleted after a successful extraction unless
/// <see cref="DownloadOptions.KeepArchive"/> is set; it is kept when the extraction fails.</description></item>
/// <item><description><c>.cifar-10-extract-&lt;random&gt;</c>: the extraction in progress, deleted on failure
/// (and, if a crash left one behind, by a later run once it is an hour old).</description></item>
/// <item><description><c>cifar-10-batches-bin</c>: the checked folder, moved into place in one rename, so it is
/// either absent or complete.</description></item>
/// </list>
/// <para>The HTTP client honours the standard <c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c>, <c>ALL_PROXY</c> and
/// <c>NO_PROXY</c> variables (<see cref="HttpClient.DefaultProxy"/>).</para>
/// </remarks>
public static class Cifar10Downloader
{
    /// <summary>File name of the verified archive in the data folder.</summary>
    public const string ArchiveFileName = "cifar-10-binary.tar.gz";

    /// <summary>File name of the download in progress in the data folder.</summary>
    public const string PartialFileName = ArchiveFileName + ".partial";

    /// <summary>Prefix of the temporary extraction folders in the data folder.</summary>
    public const string ExtractFolderPrefix = ".cifar-10-extract-";

    private const int BufferSize = 1 << 16;
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StaleExtractAge = TimeSpan.FromHours(1);

    /// <summary>
    /// Returns the <c>cifar-10-batches-bin</c> folder under <paramref name="dataDir"/>, downloading and extracting
    /// the dataset first when <see cref="Cifar10.Locate"/> does not find it. No request is made when it is there.
    /// </summary>
    /// <param name="dataDir">The data folder (see <see cref="DataCache.Resolve(string?)"/>); created if missing.</param>
    /// <param name="options">Address, checksums, timeouts and limits; the default value is <c>new DownloadOptions()</c> (the official tarball).</param>
    /// <param name="progress">
    /// Receives a <see cref="DownloadProgress"/> after each block, and, when it also implements
    /// <see cref="IProgress{T}"/> of <see cref="DownloadRetry"/>, a <see cref="DownloadRetry"/> before each wait to retry; may be <c>null</c>.
    /// </param>
    /// <param name="cancellationToken">Stops the download; the partial file is kept for the next run.</param>
    /// <returns>The full path of the folder holding the .bin files.</returns>
    /// <exception cref="DownloadException">
    /// The server refused the file (404, 403 ...), every retry failed, the checksums did not match, the archive
    /// was unsafe or incomplete, or an existing folder is unusable. The message is one line and says what to do.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="dataDir"/> is empty or an option is invalid.</exception>
    public static async Task<string> EnsureAsync(
        string dataDir,
        DownloadOptions? options = null,
        IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        options = (options ?? new DownloadOptions()).Validate();
        string root = Path.GetFullPath(dataDir);
        string target = Path.Combine(root, Cifar10.FolderName);
        string? replace = null;
        if (Cifar10.Locate(root) is { } existing)
        {
            string? problem = options.Existing == ExistingData.Replace
                ? "a new download was asked for"
                : BatchFolderCheck.FindProblem(existing, options.ExpectedRecordsPerFile, scanLabels: options.Existing == ExistingData.VerifyAndReplace);
            if (problem is null)
            {
                return existing;
            }

            if (options.Existing == ExistingData.UseIfComplete)
            {
                throw new DownloadException(
                    $"CIFAR-10 folder {existing} is there but unusable: {problem}. Delete it and download again (Cifar10Downloader).");
            }

            if (existing != target)
            {
                throw new DownloadException(
                    $"CIFAR-10 files in {existing} must be replaced ({problem}), but they lie directly in the data folder, which this program does not delete: remove the .bin files yourself and download again.");
            }

            replace = existing;
        }
        else if (Directory.Exists(target))
        {
            if (options.Existing == ExistingData.UseIfComplete)
            {
                throw new DownloadException(
                    $"CIFAR-10 folder {target} is there but unusable: it has no {Cifar10.TestFile}. Delete it and download again (Cifar10Downloader).");
            }

            replace = target;
        }

        string? created = FirstMissingAncestor(root);
        try
        {
            Directory.CreateDirectory(root);
            RemoveStaleExtractFolders(root);
            string archive = Path.Combine(root, ArchiveFileName);
            if (replace is not null || !File.Exists(archive) || !await HasExpectedContentAsync(archive, options, cancellationToken).ConfigureAwait(false))
            {
                File.Delete(archive);
                await DownloadAsync(root, archive, options, progress, cancellationToken).ConfigureAwait(false);
            }

            string folder = await ExtractAsync(root, target, archive, options, replace, cancellationToken).ConfigureAwait(false);
            if (!options.KeepArchive)
            {
                File.Delete(archive);
            }

            return folder;
        }
        catch when (created is not null)
        {
            RemoveIfEmpty(created);
            throw;
        }
    }

    /// <summary>The highest folder on the way to <paramref name="path"/> that does not exist yet (what CreateDirectory would create first), or <c>null</c>.</summary>
    private static string? FirstMissingAncestor(string path)
    {
        string? missing = null;
        for (string? current = path; current is not null && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing = current;
        }

        return missing;
    }

    /// <summary>Removes <paramref name="folder"/> and the folders under it when they hold no file (a failed attempt created them and wrote nothing worth keeping).</summary>
    private static void RemoveIfEmpty(string folder)
    {
        try
        {
            if (Directory.Exists(folder) && !Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any())
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: the original error is what the user needs to see.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static async Task DownloadAsync(
        string root, string archive, DownloadOptions options, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string partial = Path.Combine(root, PartialFileName);
        using var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            UseProxy = true,
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,   // followed by hand: http(s) only, at most DownloadOptions.MaxRedirects
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("CifarBatchNorm", "1"));

        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await TransferAsync(client, partial, options, progress, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (TransientDownloadException e) when (attempt < options.MaxRetries)
            {
                var delay = RetryDelay(options.RetryBaseDelay, attempt);
                (progress as IProgress<DownloadRetry>)?.Report(new DownloadRetry(attempt + 1, options.MaxRetries + 1, delay, e.Message.Split('\n')[0].TrimEnd()));
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            catch (TransientDownloadException e)
            {
                long kept = File.Exists(partial) ? new FileInfo(partial).Length : 0;
                string next = kept > 0
                    ? $"The partial file {partial} ({kept:N0} bytes) is kept; run again to resume."
                    : "Check the network and proxy settings (HTTPS_PROXY, NO_PROXY), or set another address in DownloadOptions.Url or CIFAR_BATCHNORM_URL.";
                throw new DownloadException(
                    $"Downloading {options.Url} failed after {attempt + 1} attempt(s): {e.Message}. {next}", e);
            }
        }

        File.Move(partial, archive, overwrite: true);
    }

    /// <summary>One attempt: resumes or restarts the partial file and, once it is complete, verifies it.</summary>
    private static async Task TransferAsync(
        HttpClient client, string partial, DownloadOptions options, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        long expected = options.ExpectedSize;
        long existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (existing > expected)
        {
            File.Delete(partial);
            existing = 0;
        }

        if (existing == expected)
        {
            var (md5, sha256) = await HashFileAsync(partial, cancellationToken).ConfigureAwait(false);
            CheckDigests(partial, options, md5, sha256);
            return;
        }

        using var response = await SendFollowingRedirectsAsync(client, existing, options, cancellationToken).ConfigureAwait(false);
        long start = StartOffset(response, existing, partial, options);
        if (response.Content.Headers.ContentLength is { } length && start + length != expected)
        {
            File.Delete(partial);
            throw new DownloadException(
                $"{options.Url} announced {start + length:N0} bytes, expected {expected:N0}; it is not the expected file (the partial file was deleted). Check DownloadOptions.Url or CIFAR_BATCHNORM_URL.");
        }

        (string Md5, string Sha256) digests;
        await using (var file = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, BufferSize, useAsync: true))
        {
            file.SetLength(start);
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await HashAsync(file, start, md5, sha256, cancellationToken).ConfigureAwait(false);
            file.Position = start;

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await CopyBodyAsync(body, file, start, md5, sha256, options, progress, cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
            digests = (Convert.ToHexStringLower(md5.GetHashAndReset()), Convert.ToHexStringLower(sha256.GetHashAndReset()));
        }

        CheckDigests(partial, options, digests.Md5, digests.Sha256);
    }

    /// <summary>
    /// Sends the GET (with a Range from <paramref name="existing"/>), following at most
    /// <see cref="DownloadOptions.MaxRedirects"/> redirects, to http and https addresses only.
    /// </summary>
    private static async Task<HttpResponseMessage> SendFollowingRedirectsAsync(
        HttpClient client, long existing, DownloadOptions options, CancellationToken cancellationToken)
    {
        var address = new Uri(options.Url);
        for (int redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, address);
            if (existing > 0)
            {
                request.Headers.Range = new RangeHeaderValue(existing, null);
            }

            var response = await SendAsync(client, request, options, cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is not (301 or 302 or 303 or 307 or 308))
            {
                return response;
            }

            string? location = response.Headers.NonValidated.TryGetValues("Location", out var values) ? values.FirstOrDefault() : null;
            response.Dispose();
            if (location is null || !Uri.TryCreate(address, location, out Uri? next))
            {
                throw new DownloadException($"{options.Url} redirected ({status}) to {(location is null ? "no address" : $"'{location}'")}, which is not a valid address. Check DownloadOptions.Url or CIFAR_BATCHNORM_URL.");
            }

            if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
            {
                throw new DownloadException($"{options.Url} redirected ({status}) to {next.Scheme}: '{location}'; only http and https redirects are followed. Check DownloadOptions.Url or CIFAR_BATCHNORM_URL.");
            }

            if (redirects == DownloadOptions.MaxRedirects)
            {
                throw new DownloadException($"{options.Url} redirected more than {DownloadOptions.MaxRedirects} times (last to {next}); a mirror needs at most {DownloadOptions.MaxRedirects}. Check DownloadOptions.Url or CIFAR_BATCHNORM_URL.");
            }

            address = next;
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(
        HttpClient client, HttpRequestMessage request, DownloadOptions options, CancellationToken cancellationToken)
    {
        // The headers must arrive within ReadTimeout of the connection, which itself may take ConnectTimeout.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout + options.ReadTimeout);
        try
        {
            return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransientDownloadException(
                $"timed out: no response within {Seconds(options.ConnectTimeout)} s (ConnectTimeout) + {Seconds(options.ReadTimeout)} s (ReadTimeout)", e);
        }
        catch (HttpRequestException e)
        {
            throw new TransientDownloadException($"request failed ({e.Message})", e);
        }
    }

    /// <summary>Where the body starts in the file, after checking the status; throws on an error status.</summary>
    private static long StartOffset(HttpResponseMessage response, long existing, string partial, DownloadOptions options)
    {
        int status = (int)response.StatusCode;
        switch (status)
        {
            case 200:
                // A server that ignores Range sends the whole file: start again from zero.
                return 0;
            case 206 when response.Content.Headers.ContentRange?.From == existing:
                return existing;
            case 206:
                File.Delete(partial);
                throw new TransientDownloadException(
                    $"the server resumed at byte {response.Content.Headers.ContentRange?.From?.ToString("N0") ?? "?"} instead of {existing:N0}; the partial file was deleted to start again from zero");
            case 416 when existing > 0:
                File.Delete(partial);
                throw new TransientDownloadException("the server rejected the resume range (416); the partial file was deleted to start again from zero");
            case 408 or 429 or >= 500:
                throw new TransientDownloadException($"the server answered {status} {response.ReasonPhrase}");
            default:
                throw new DownloadException(
                    $"Download failed: {options.Url} answered HTTP {status} {response.ReasonPhrase}. Check the address, or set another in DownloadOptions.Url or the CIFAR_BATCHNORM_URL environment variable.");
        }
    }

    private static async Task CopyBodyAsync(
        Stream body,
        FileStream file,
        long start,
        IncrementalHash md5,
        IncrementalHash sha256,
        DownloadOptions options,
        IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        long expected = options.ExpectedSize;
        long total = start;
        long began = Stopwatch.GetTimestamp();
        var buffer = new byte[BufferSize];
        using var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        progress?.Report(new DownloadProgress(total, expected, 0, null));
        while (true)
        {
            // CancelAfter restarts the timer: the limit applies to each read, not to the whole transfer.
            readTimeout.CancelAfter(options.ReadTimeout);
            int read;
            try
            {
                read = await body.ReadAsync(buffer, readTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TransientDownloadException(
                    $"timed out: no data for {Seconds(options.ReadTimeout)} s (ReadTimeout) after {total:N0} of {expected:N0} bytes", e);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new TransientDownloadException($"connection lost after {total:N0} of {expected:N0} bytes ({e.Message})", e);
            }

            if (read == 0)
            {
                break;
            }

            if (total + read > expected)
            {
                await file.DisposeAsync().ConfigureAwait(false);
                File.Delete(file.Name);
                throw new DownloadException(
                    $"{options.Url} sent more than the expected {expected:N0} bytes; it is not the expected file (the partial file was deleted). Check DownloadOptions.Url or CIFAR_BATCHNORM_URL.");
            }

            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            md5.AppendData(buffer, 0, read);
            sha256.AppendData(buffer, 0, read);
            total += read;
            progress?.Report(Snapshot(total, start, expected, Stopwatch.GetElapsedTime(began)));
        }

        if (total < expected)
        {
            throw new TransientDownloadException($"the connection closed after {total:N0} of {expected:N0} bytes");
        }
    }

    private static DownloadProgress Snapshot(long total, long start, long expected, TimeSpan elapsed)
    {
        double speed = elapsed > TimeSpan.Zero ? (total - start) / elapsed.TotalSeconds : 0;
        TimeSpan? eta = speed > 0 ? TimeSpan.FromSeconds((expected - total) / speed) : null;
        return new DownloadProgress(total, expected, speed, eta);
    }

    /// <summary>Deletes <paramref name="path"/> and throws when a digest differs from the expected one.</summary>
    private static void CheckDigests(string path, DownloadOptions options, string md5, string sha256)
    {
        string? mismatch =
            sha256 != options.ExpectedSha256 ? $"SHA-256 {options.ExpectedSha256}, got {sha256}"
            : md5 != options.ExpectedMd5 ? $"MD5 {options.ExpectedMd5}, got {md5}"
            : null;
        if (mismatch is not null)
        {
            File.Delete(path);
            throw new DownloadException(
                $"Checksum mismatch for {options.Url}: expected {mismatch}; the file {path} was deleted. Run again, or check DownloadOptions.Url or CIFAR_BATCHNORM_URL.");
        }
    }

    private static async Task<bool> HasExpectedContentAsync(string path, DownloadOptions options, CancellationToken cancellationToken)
    {
        if (new FileInfo(path).Length != options.ExpectedSize)
        {
            return false;
        }

        var (md5, sha256) = await HashFileAsync(path, cancellationToken).ConfigureAwait(false);
        return md5 == options.ExpectedMd5 && sha256 == options.ExpectedSha256;
    }

    private static async Task<(string Md5, string Sha256)> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await HashAsync(file, file.Length, md5, sha256, cancellationToken).ConfigureAwait(false);
        return (Convert.ToHexStringLower(md5.GetHashAndReset()), Convert.ToHexStringLower(sha256.GetHashAndReset()));
    }

    /// <summary>Feeds the first <paramref name="length"/> bytes of <paramref name="file"/> to both hashes.</summary>
    private static async Task HashAsync(FileStream file, long length, IncrementalHash md5, IncrementalHash sha256, CancellationToken cancellationToken)
    {
        file.Position = 0;
        var buffer = new byte[BufferSize];
        for (long done = 0; done < length;)
        {
            int read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - done)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException($"{file.Name} ended after {done:N0} of {length:N0} bytes while hashing.");
            }

            md5.AppendData(buffer, 0, read);
            sha256.AppendData(buffer, 0, read);
            done += read;
        }
    }

    private static async Task<string> ExtractAsync(
        string root, string target, string archive, DownloadOptions options, string? replace, CancellationToken cancellationToken)
    {
        string temporary = Path.Combine(root, ExtractFolderPrefix + Path.GetRandomFileName());
        Directory.CreateDirectory(temporary);
        try
        {
            await TarballExtractor.ExtractAsync(archive, temporary, options.MaxExtractedBytes, cancellationToken).ConfigureAwait(false);
            if (BatchFolderCheck.FindProblem(temporary, options.ExpectedRecordsPerFile, scanLabels: true) is { } problem)
            {
                throw new DownloadException(
                    $"Archive {archive} passed its checksums but holds unusable data: {problem} (DownloadOptions.ExpectedRecordsPerFile is {options.ExpectedRecordsPerFile?.ToString("N0") ?? "null"}).");
            }

            if (replace is not null)
            {
                // The verified new copy is complete on the disk before the old one goes: move the old one aside
                // (one rename), put the new one in place (one rename), then delete the old one.
                string old = Path.Combine(root, ExtractFolderPrefix + "old-" + Path.GetRandomFileName());
                Directory.Move(replace, old);
                Directory.Move(temporary, target);
                Directory.Delete(old, recursive: true);
                return target;
            }

            try
            {
                Directory.Move(temporary, target);
            }
            catch (IOException) when (Directory.Exists(target)
                && BatchFolderCheck.FindProblem(target, options.ExpectedRecordsPerFile, scanLabels: false) is null)
            {
                // Another process finished the same download first; its folder is as good as ours.
            }

            return target;
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    private static void RemoveStaleExtractFolders(string root)
    {
        foreach (var folder in new DirectoryInfo(root).EnumerateDirectories(ExtractFolderPrefix + "*"))
        {
            // A younger folder may belong to a run still extracting.
            if (DateTime.UtcNow - folder.LastWriteTimeUtc > StaleExtractAge)
            {
                folder.Delete(recursive: true);
            }
        }
    }

    private static TimeSpan RetryDelay(TimeSpan baseDelay, int attempt) =>
        TimeSpan.FromTicks((long)Math.Min(baseDelay.Ticks * Math.Pow(2, attempt), MaxRetryDelay.Ticks));

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
