using System.Globalization;

namespace CifarBatchNorm.Data.Download;

/// <summary>
/// Where to download the CIFAR-10 binary tarball from, what it must hash to, and how patiently to wait for it.
/// Every property is validated when it is set (object initializer or <c>with</c>), with a message that names the
/// option, the value received and what is allowed; <see cref="Validate"/> checks them all again.
/// </summary>
/// <remarks>
/// The defaults describe the official <c>cifar-10-binary.tar.gz</c> (170,052,171 bytes). Tests and mirrors of a
/// different file set <see cref="ExpectedSize"/>, <see cref="ExpectedMd5"/>, <see cref="ExpectedSha256"/> and,
/// for smaller batch files, <see cref="ExpectedRecordsPerFile"/>.
/// </remarks>
public sealed record DownloadOptions
{
    /// <summary>The dataset's official address.</summary>
    public const string OfficialUrl = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

    /// <summary>Size in bytes of the official tarball.</summary>
    public const long OfficialSize = 170_052_171;

    /// <summary>Published MD5 of the official tarball.</summary>
    public const string OfficialMd5 = "c32a1d4ab5d03f1284b67883e8d87530";

    /// <summary>SHA-256 of the official tarball.</summary>
    public const string OfficialSha256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd";

    /// <summary>Environment variable that <see cref="FromEnvironment()"/> reads to replace <see cref="Url"/>.</summary>
    public const string UrlVariable = "CIFAR_BATCHNORM_URL";

    private static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxBaseDelay = TimeSpan.FromMinutes(5);
    private const int MaxRetriesLimit = 100;

    /// <summary>
    /// Absolute http or https address of the tarball. The default value is <see cref="OfficialUrl"/>.
    /// </summary>
    public string Url
    {
        get;
        init => field = CheckUrl(value, nameof(Url));
    } = OfficialUrl;

    /// <summary>Exact size of the tarball in bytes, at least 1. The default value is <see cref="OfficialSize"/>.</summary>
    public long ExpectedSize
    {
        get;
        init => field = CheckAtLeastOne(value, nameof(ExpectedSize));
    } = OfficialSize;

    /// <summary>MD5 of the tarball, 32 hexadecimal digits (stored lower-case). The default value is <see cref="OfficialMd5"/>.</summary>
    public string ExpectedMd5
    {
        get;
        init => field = CheckHex(value, 32, nameof(ExpectedMd5));
    } = OfficialMd5;

    /// <summary>SHA-256 of the tarball, 64 hexadecimal digits (stored lower-case). The default value is <see cref="OfficialSha256"/>.</summary>
    public string ExpectedSha256
    {
        get;
        init => field = CheckHex(value, 64, nameof(ExpectedSha256));
    } = OfficialSha256;

    /// <summary>Longest wait for a TCP (and TLS) connection, more than zero and at most one hour. The default value is 30 seconds.</summary>
    public TimeSpan ConnectTimeout
    {
        get;
        init => field = CheckTimeout(value, nameof(ConnectTimeout));
    } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest wait for the response headers and, during the transfer, for the next bytes; a longer silence fails
    /// the attempt. More than zero and at most one hour. The default value is 60 seconds.
    /// </summary>
    public TimeSpan ReadTimeout
    {
        get;
        init => field = CheckTimeout(value, nameof(ReadTimeout));
    } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Retries after a transient failure (connection error, timeout, HTTP 5xx, 408 or 429), 0 to 100; each retry
    /// resumes the partial file. The default value is 4 (five attempts in all).
    /// </summary>
    public int MaxRetries
    {
        get;
        init => field = CheckRetries(value);
    } = 4;

    /// <summary>
    /// Wait before the first retry; it doubles for each further retry (1, 2, 4, 8 s with the default). Zero to five
    /// minutes. The default value is 1 second.
    /// </summary>
    public TimeSpan RetryBaseDelay
    {
        get;
        init => field = CheckBaseDelay(value);
    } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Cap on the bytes written while extracting, at least 1; an archive that would exceed it is rejected. The
    /// default value is 200 MiB (209,715,200 bytes; the official files take 184.4 MB).
    /// </summary>
    public long MaxExtractedBytes
    {
        get;
        init => field = CheckAtLeastOne(value, nameof(MaxExtractedBytes));
    } = 200L * 1024 * 1024;

    /// <summary>
    /// Records each extracted .bin file must hold, or <c>null</c> to accept any positive number of 3,073-byte
    /// records (small test archives). Label bytes must be 0-9 either way. The default value is
    /// <see cref="Cifar10.RecordsPerFile"/> (10,000).
    /// </summary>
    public int? ExpectedRecordsPerFile
    {
        get;
        init => field = CheckRecords(value);
    } = Cifar10.RecordsPerFile;

    /// <summary>
    /// What to do with a CIFAR-10 folder that is already there. The default value is
    /// <see cref="ExistingData.UseIfComplete"/>: the six files must be there with the right sizes, and nothing is
    /// downloaded.
    /// </summary>
    public ExistingData Existing { get; init; } = ExistingData.UseIfComplete;

    /// <summary>Maximum HTTP redirects followed (http and https only). The default value is 5.</summary>
    public const int MaxRedirects = 5;

    /// <summary>
    /// Keeps the verified <c>cifar-10-binary.tar.gz</c> next to the extracted folder. The default value is
    /// <c>false</c>: the archive is deleted after a successful extraction to save 170 MB.
    /// </summary>
    public bool KeepArchive { get; init; }

    /// <summary>
    /// The default options, with <see cref="Url"/> taken from the <c>CIFAR_BATCHNORM_URL</c> environment
    /// variable when it is set and not empty.
    /// </summary>
    /// <exception cref="ArgumentException">The variable holds something other than an absolute http(s) URL.</exception>
    public static DownloadOptions FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    internal static DownloadOptions FromEnvironment(Func<string, string?> getVariable)
    {
        string? url = getVariable(UrlVariable);
        if (string.IsNullOrWhiteSpace(url))
        {
            return new DownloadOptions();
        }

        try
        {
            return new DownloadOptions { Url = url.Trim() };
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(
                $"The environment variable {UrlVariable} holds '{url.Trim()}', which is not an absolute http:// or https:// URL: set it to a mirror's address of the tarball, or unset it.",
                UrlVariable, e);
        }
    }

    /// <summary>
    /// Checks every option again (each is also checked when set, so this only fails on an instance built by
    /// other means, such as reflection or deserialization) and returns this instance.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public DownloadOptions Validate()
    {
        CheckUrl(Url, nameof(Url));
        CheckHex(ExpectedMd5, 32, nameof(ExpectedMd5));
        CheckHex(ExpectedSha256, 64, nameof(ExpectedSha256));
        CheckTimeout(ConnectTimeout, nameof(ConnectTimeout));
        CheckTimeout(ReadTimeout, nameof(ReadTimeout));
        CheckAtLeastOne(ExpectedSize, nameof(ExpectedSize));
        CheckAtLeastOne(MaxExtractedBytes, nameof(MaxExtractedBytes));
        CheckRetries(MaxRetries);
        CheckBaseDelay(RetryBaseDelay);
        CheckRecords(ExpectedRecordsPerFile);
        return this;
    }

    private static long CheckAtLeastOne(long value, string name) =>
        value >= 1 ? value : throw Invalid(name, value.ToString(CultureInfo.InvariantCulture), "at least 1 byte");

    private static int CheckRetries(int value) =>
        value is >= 0 and <= MaxRetriesLimit
            ? value
            : throw Invalid(nameof(MaxRetries), value.ToString(CultureInfo.InvariantCulture), $"0 to {MaxRetriesLimit}");

    private static TimeSpan CheckBaseDelay(TimeSpan value) =>
        value >= TimeSpan.Zero && value <= MaxBaseDelay
            ? value
            : throw Invalid(nameof(RetryBaseDelay), value.ToString(), "0 to 00:05:00");

    private static int? CheckRecords(int? value) =>
        value is null or >= 1
            ? value
            : throw Invalid(nameof(ExpectedRecordsPerFile), value.Value.ToString(CultureInfo.InvariantCulture), "null or at least 1");

    private static string CheckUrl(string? value, string name)
    {
        if (value is null
            || !Uri.TryCreate(value, UriKind.Absolute, out Uri? uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw Invalid(name, value is null ? "null" : $"'{value}'", "an absolute http:// or https:// URL");
        }

        return value;
    }

    private static string CheckHex(string? value, int digits, string name)
    {
        if (value is null || value.Length != digits || !value.All(char.IsAsciiHexDigit))
        {
            throw Invalid(name, value is null ? "null" : $"'{value}'", $"{digits} hexadecimal digits");
        }

        return value.ToLowerInvariant();
    }

    private static TimeSpan CheckTimeout(TimeSpan value, string name) =>
        value > TimeSpan.Zero && value <= MaxTimeout
            ? value
            : throw Invalid(name, value.ToString(), "more than 00:00:00 and at most 01:00:00");

    private static ArgumentException Invalid(string name, string value, string allowed) =>
        new($"DownloadOptions.{name} is {value}; expected {allowed}.", name);
}
