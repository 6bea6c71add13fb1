using System.Formats.Tar;
using CifarBatchNorm.Data;
using CifarBatchNorm.Data.Download;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Data.Download;

public sealed class Cifar10DownloaderTests : IDisposable
{
    private const int Bounded = 5000;

    private readonly TempDirectory _temp = new();
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(4));

    private string DataDir => _temp.Combine("data");

    private string Partial => Path.Combine(DataDir, Cifar10Downloader.PartialFileName);

    private string Archive => Path.Combine(DataDir, Cifar10Downloader.ArchiveFileName);

    private string Extracted => Path.Combine(DataDir, Cifar10.FolderName);

    public void Dispose()
    {
        _guard.Dispose();
        _temp.Dispose();
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_downloads_verifies_and_extracts_the_expected_members()
    {
        byte[] archive = TestArchive.Build(after: tar =>
        {
            TestArchive.AddFile(tar, $"{Cifar10.FolderName}/extra.txt", [1, 2, 3]);
            TestArchive.AddFile(tar, "other/file.bin", [4, 5, 6]);
        });
        await using var server = new LoopbackServer((request, _) => ServedResponse.File(archive, request));
        var reports = new List<DownloadProgress>();

        string folder = await Cifar10Downloader.EnsureAsync(
            DataDir, TestArchive.OptionsFor(archive, server.Url), new SynchronousProgress(reports.Add), _guard.Token);

        Assert.Equal(Extracted, folder);
        Assert.Equal(folder, Cifar10.Locate(DataDir));
        for (int i = 0; i < TestArchive.BinFiles.Count; i++)
        {
            Assert.Equal(TestArchive.BinFile(i), await File.ReadAllBytesAsync(Path.Combine(folder, TestArchive.BinFiles[i]), _guard.Token));
        }

        Assert.True(File.Exists(Path.Combine(folder, "batches.meta.txt")));
        Assert.False(File.Exists(Path.Combine(folder, "extra.txt")));
        Assert.False(Directory.Exists(Path.Combine(DataDir, "other")));
        Assert.False(File.Exists(Partial));
        Assert.False(File.Exists(Archive));
        Assert.Empty(Directory.GetDirectories(DataDir, Cifar10Downloader.ExtractFolderPrefix + "*"));
        Assert.Equal(archive.Length, reports[^1].BytesReceived);
        Assert.True(reports[^1].IsComplete);
        Assert.Single(server.Requests);
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_deletes_the_file_and_names_the_checksums_on_mismatch()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((request, _) => ServedResponse.File(archive, request));
        string wrong = new('0', 64);
        var options = TestArchive.OptionsFor(archive, server.Url) with { ExpectedSha256 = wrong };

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token));

        string actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(archive));
        Assert.Contains(server.Url, error.Message, StringComparison.Ordinal);
        Assert.Contains(wrong, error.Message, StringComparison.Ordinal);
        Assert.Contains(actual, error.Message, StringComparison.Ordinal);
        Assert.Contains("deleted", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(File.Exists(Partial));
        Assert.False(File.Exists(Archive));
        Assert.False(Directory.Exists(Extracted));
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_keeps_a_truncated_transfer_and_the_next_run_resumes_it_with_a_range_request()
    {
        byte[] archive = TestArchive.Build();
        int half = archive.Length / 2;
        await using var server = new LoopbackServer((request, index) =>
            ServedResponse.File(archive, request, closeAfterBytes: index == 0 ? half : null));
        var options = TestArchive.OptionsFor(archive, server.Url);

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token));
        Assert.Contains("resume", error.Message, StringComparison.Ordinal);
        Assert.Equal(half, new FileInfo(Partial).Length);
        Assert.False(Directory.Exists(Extracted));

        string folder = await Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token);

        Assert.Equal(2, server.Requests.Count);
        Assert.Null(server.Requests[0].Range);
        Assert.Equal($"bytes={half}-", server.Requests[1].Range);
        Assert.Equal(TestArchive.BinFile(5), await File.ReadAllBytesAsync(Path.Combine(folder, Cifar10.TestFile), _guard.Token));
        Assert.False(File.Exists(Partial));
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_restarts_from_zero_when_the_server_answers_200_to_a_range_request()
    {
        byte[] archive = TestArchive.Build();
        Directory.CreateDirectory(DataDir);
        await File.WriteAllBytesAsync(Partial, new byte[archive.Length / 3], _guard.Token);
        await using var server = new LoopbackServer((_, _) => new ServedResponse(200, archive));

        string folder = await Cifar10Downloader.EnsureAsync(DataDir, TestArchive.OptionsFor(archive, server.Url), null, _guard.Token);

        Assert.Equal($"bytes={archive.Length / 3}-", Assert.Single(server.Requests).Range);
        Assert.Equal(TestArchive.BinFile(0), await File.ReadAllBytesAsync(Path.Combine(folder, Cifar10.TrainFiles[0]), _guard.Token));
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_retries_server_errors_with_backoff_and_then_succeeds()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((request, index) =>
            index < 2 ? ServedResponse.Error(500) : ServedResponse.File(archive, request));
        var options = TestArchive.OptionsFor(archive, server.Url) with { MaxRetries = 4 };

        string folder = await Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token);

        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(folder, Cifar10.Locate(DataDir));
    }

    [Fact(Timeout = Bounded)]
    public async Task Each_retry_is_reported_with_its_attempt_delay_and_reason_and_printed_as_a_line()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((request, index) =>
            index < 2 ? ServedResponse.Error(500) : ServedResponse.File(archive, request));
        var options = TestArchive.OptionsFor(archive, server.Url) with { MaxRetries = 4 };
        using var output = new StringWriter();

        await Cifar10Downloader.EnsureAsync(DataDir, options, new ConsoleDownloadProgress(output, live: false), _guard.Token);

        string[] lines = output.ToString().Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
        Assert.Equal(
            ["Attempt 1 of 5 failed (the server answered 500 Internal Server Error); retrying in 50 ms.",
             "Attempt 2 of 5 failed (the server answered 500 Internal Server Error); retrying in 100 ms."],
            lines.Where(l => l.StartsWith("Attempt ", StringComparison.Ordinal)));
        Assert.Equal(2, Array.FindIndex(lines, l => !l.StartsWith("Attempt ", StringComparison.Ordinal)));   // before any progress line
        Assert.Equal("Attempt 2 of 5 failed (x); retrying in 1.5 s.", new DownloadRetry(2, 5, TimeSpan.FromSeconds(1.5), "x").Describe());
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_gives_up_after_max_retries_naming_the_attempts_and_the_last_error()
    {
        await using var server = new LoopbackServer((_, _) => ServedResponse.Error(500));
        var options = TestArchive.OptionsFor([1], server.Url) with { MaxRetries = 2 };

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token));

        Assert.Equal(3, server.Requests.Count);
        Assert.Contains("3 attempt(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("500", error.Message, StringComparison.Ordinal);
        Assert.Contains("CIFAR_BATCHNORM_URL", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_retries_a_refused_connection_and_then_names_the_failure()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        string url = $"http://127.0.0.1:{port}/cifar-10-binary.tar.gz";
        var options = TestArchive.OptionsFor([1], url) with { MaxRetries = 1 };

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token));

        Assert.Contains(url, error.Message, StringComparison.Ordinal);
        Assert.Contains("2 attempt(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTPS_PROXY", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Partial));
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_rejects_a_response_of_the_wrong_size_without_retrying()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((_, _) => new ServedResponse(200, "<html>moved</html>"u8.ToArray()));
        var options = TestArchive.OptionsFor(archive, server.Url) with { MaxRetries = 4 };

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token));

        Assert.Single(server.Requests);
        Assert.Contains(server.Url, error.Message, StringComparison.Ordinal);
        Assert.Contains("announced 18 bytes", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Partial));
    }

    [Theory(Timeout = Bounded)]
    [InlineData(404)]
    [InlineData(403)]
    public async Task Ensure_fails_at_once_on_a_client_error_naming_the_url_and_status(int status)
    {
        await using var server = new LoopbackServer((_, _) => ServedResponse.Error(status));
        var options = TestArchive.OptionsFor([1], server.Url) with { MaxRetries = 4 };

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token));

        Assert.Single(server.Requests);
        Assert.Contains(server.Url, error.Message, StringComparison.Ordinal);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Contains("DownloadOptions.Url", error.Message, StringComparison.Ordinal);
        Assert.Contains("CIFAR_BATCHNORM_URL", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(File.Exists(Partial));
    }

    [Theory(Timeout = Bounded)]
    [InlineData("../evil")]
    [InlineData("cifar-10-batches-bin/../../evil")]
    [InlineData("/abs/path")]
    [InlineData("symlink")]
    [InlineData("hardlink")]
    public async Task Ensure_rejects_unsafe_members_and_extracts_nothing(string kind)
    {
        string member = kind switch
        {
            "symlink" or "hardlink" => $"{Cifar10.FolderName}/{Cifar10.TestFile}",
            _ => kind,
        };
        byte[] archive = TestArchive.Build(before: tar =>
        {
            switch (kind)
            {
                case "symlink":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, member) { LinkName = _temp.Combine("evil") });
                    break;
                case "hardlink":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, member) { LinkName = "/etc/passwd" });
                    break;
                default:
                    TestArchive.AddFile(tar, member, [6, 6, 6]);
                    break;
            }
        });
        await using var server = new LoopbackServer((request, _) => ServedResponse.File(archive, request));

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, TestArchive.OptionsFor(archive, server.Url), null, _guard.Token));

        Assert.Contains($"'{member}'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(File.Exists(_temp.Combine("evil")));
        Assert.False(File.Exists("/abs/path"));
        Assert.False(Directory.Exists(Extracted));
        Assert.Null(Cifar10.Locate(DataDir));
        Assert.Empty(Directory.GetDirectories(DataDir, Cifar10Downloader.ExtractFolderPrefix + "*"));
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_rejects_an_archive_that_exceeds_the_extraction_cap()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((request, _) => ServedResponse.File(archive, request));
        var options = TestArchive.OptionsFor(archive, server.Url) with { MaxExtractedBytes = 4 * TestArchive.RecordsPerFile * Cifar10.RecordSize };

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token));

        Assert.Contains("MaxExtractedBytes", error.Message, StringComparison.Ordinal);
        Assert.Contains(TestArchive.BinFiles[4], error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Extracted));
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_rejects_an_archive_whose_files_have_the_wrong_record_count()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((request, _) => ServedResponse.File(archive, request));
        var options = TestArchive.OptionsFor(archive, server.Url) with { ExpectedRecordsPerFile = Cifar10.RecordsPerFile };

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token));

        Assert.Contains(Cifar10.TrainFiles[0], error.Message, StringComparison.Ordinal);
        Assert.Contains("10,000 records", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Extracted));
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_fails_with_a_timeout_when_the_server_stalls_after_the_headers()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((_, _) => new ServedResponse(200, archive, StallAfterHeaders: true));
        var options = TestArchive.OptionsFor(archive, server.Url) with { ReadTimeout = TimeSpan.FromMilliseconds(300) };

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token));

        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.Contains("ReadTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains(server.Url, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Extracted));
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_makes_no_request_when_the_data_is_present()
    {
        Directory.CreateDirectory(Extracted);
        for (int i = 0; i < TestArchive.BinFiles.Count; i++)
        {
            await File.WriteAllBytesAsync(Path.Combine(Extracted, TestArchive.BinFiles[i]), TestArchive.BinFile(i), _guard.Token);
        }

        await using var server = new LoopbackServer((_, _) => ServedResponse.Error(500));

        string folder = await Cifar10Downloader.EnsureAsync(DataDir, TestArchive.OptionsFor([1], server.Url), null, _guard.Token);

        Assert.Equal(Extracted, folder);
        Assert.Empty(server.Requests);
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_reports_an_incomplete_existing_folder_instead_of_trusting_it()
    {
        Directory.CreateDirectory(Extracted);
        await File.WriteAllBytesAsync(Path.Combine(Extracted, Cifar10.TestFile), TestArchive.BinFile(0), _guard.Token);
        await using var server = new LoopbackServer((_, _) => ServedResponse.Error(500));

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, TestArchive.OptionsFor([1], server.Url), null, _guard.Token));

        Assert.Contains(Cifar10.TrainFiles[0], error.Message, StringComparison.Ordinal);
        Assert.Contains("Delete it", error.Message, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_refuses_to_replace_an_existing_folder_without_the_test_file()
    {
        Directory.CreateDirectory(Extracted);
        await using var server = new LoopbackServer((_, _) => ServedResponse.Error(500));

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, TestArchive.OptionsFor([1], server.Url), null, _guard.Token));

        Assert.Contains(Cifar10.TestFile, error.Message, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    [Fact(Timeout = Bounded)]
    public async Task Ensure_extracts_a_kept_verified_archive_without_a_request()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((request, _) => ServedResponse.File(archive, request));
        var options = TestArchive.OptionsFor(archive, server.Url) with { KeepArchive = true };
        await Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token);
        Assert.True(File.Exists(Archive));
        Directory.Delete(Extracted, recursive: true);

        string folder = await Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token);

        Assert.Single(server.Requests);
        Assert.Equal(folder, Cifar10.Locate(DataDir));
    }

    [Fact(Timeout = Bounded)]
    public async Task Http_redirects_are_followed_to_the_file()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((request, _) => request.Target switch
        {
            "/moved" => ServedResponse.Redirect(302, "/again"),
            "/again" => ServedResponse.Redirect(307, "/file"),
            _ => ServedResponse.File(archive, request),
        });
        string moved = new Uri(new Uri(server.Url), "/moved").ToString();

        string folder = await Cifar10Downloader.EnsureAsync(DataDir, TestArchive.OptionsFor(archive, moved), null, _guard.Token);

        Assert.Equal(Extracted, folder);
        Assert.Equal(["/moved", "/again", "/file"], server.Requests.Select(r => r.Target));
    }

    [Theory(Timeout = Bounded)]
    [InlineData("file:///etc/passwd", "redirected (302) to file: 'file:///etc/passwd'; only http and https redirects are followed")]
    [InlineData("ftp://example.org/cifar.tgz", "redirected (302) to ftp: 'ftp://example.org/cifar.tgz'; only http and https redirects are followed")]
    [InlineData("http://[bad", "redirected (302) to 'http://[bad', which is not a valid address")]
    public async Task A_redirect_away_from_http_is_a_clean_error_and_leaves_nothing(string location, string message)
    {
        await using var server = new LoopbackServer((_, _) => ServedResponse.Redirect(302, location));

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, TestArchive.OptionsFor([1], server.Url), null, _guard.Token));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Single(error.Message.Split('\n'));
        Assert.Single(server.Requests);                  // no retry for a bad redirect
        Assert.False(Directory.Exists(DataDir));         // the folder this attempt created is gone again
    }

    [Fact(Timeout = Bounded)]
    public async Task More_than_five_redirects_are_refused()
    {
        await using var server = new LoopbackServer((request, n) => ServedResponse.Redirect(301, $"/hop{n}"));

        var error = await Assert.ThrowsAsync<DownloadException>(
            () => Cifar10Downloader.EnsureAsync(DataDir, TestArchive.OptionsFor([1], server.Url), null, _guard.Token));

        Assert.Contains("redirected more than 5 times", error.Message, StringComparison.Ordinal);
        Assert.Equal(6, server.Requests.Count);
    }

    [Fact(Timeout = Bounded)]
    public async Task A_failed_attempt_removes_the_folders_it_created_but_keeps_ones_that_were_there()
    {
        await using var server = new LoopbackServer((_, _) => ServedResponse.Error(404));
        string deep = _temp.Combine("a", "b", "c");

        await Assert.ThrowsAsync<DownloadException>(() => Cifar10Downloader.EnsureAsync(deep, TestArchive.OptionsFor([1], server.Url), null, _guard.Token));
        Directory.CreateDirectory(DataDir);
        await Assert.ThrowsAsync<DownloadException>(() => Cifar10Downloader.EnsureAsync(DataDir, TestArchive.OptionsFor([1], server.Url), null, _guard.Token));

        Assert.False(Directory.Exists(_temp.Combine("a")));
        Assert.True(Directory.Exists(DataDir));
    }

    [Fact(Timeout = Bounded)]
    public async Task Verify_replaces_a_copy_with_a_bad_label_byte_and_keeps_a_good_one()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((request, _) => ServedResponse.File(archive, request));
        var verify = TestArchive.OptionsFor(archive, server.Url) with { Existing = ExistingData.VerifyAndReplace };
        await Cifar10Downloader.EnsureAsync(DataDir, verify, null, _guard.Token);
        string test = Path.Combine(Extracted, Cifar10.TestFile);
        byte[] corrupt = await File.ReadAllBytesAsync(test, _guard.Token);
        corrupt[0] = 255;                                             // record 0's label byte: right size, wrong content
        await File.WriteAllBytesAsync(test, corrupt, _guard.Token);

        string? problem = BatchFolderCheck.FindProblem(Extracted, TestArchive.RecordsPerFile, scanLabels: true);   // what training reports
        await Cifar10Downloader.EnsureAsync(DataDir, verify, null, _guard.Token);
        await Cifar10Downloader.EnsureAsync(DataDir, verify, null, _guard.Token);

        Assert.Contains("255", problem, StringComparison.Ordinal);
        Assert.Equal(TestArchive.BinFile(TestArchive.BinFiles.Count - 1), await File.ReadAllBytesAsync(test, _guard.Token));
        Assert.Equal(2, server.Requests.Count);                       // the good copy was not downloaded again
        Assert.Empty(Directory.GetDirectories(DataDir, Cifar10Downloader.ExtractFolderPrefix + "*"));
    }

    [Fact(Timeout = Bounded)]
    public async Task Replace_downloads_again_even_a_good_copy()
    {
        byte[] archive = TestArchive.Build();
        await using var server = new LoopbackServer((request, _) => ServedResponse.File(archive, request));
        var options = TestArchive.OptionsFor(archive, server.Url);
        await Cifar10Downloader.EnsureAsync(DataDir, options, null, _guard.Token);

        await Cifar10Downloader.EnsureAsync(DataDir, options with { Existing = ExistingData.Replace }, null, _guard.Token);

        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(Extracted, Cifar10.Locate(DataDir));
    }

    /// <summary>Unlike <see cref="Progress{T}"/>, reports on the calling thread, so the list is complete on return.</summary>
    private sealed class SynchronousProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
