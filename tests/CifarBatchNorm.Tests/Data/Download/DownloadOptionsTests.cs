using CifarBatchNorm.Data.Download;

namespace CifarBatchNorm.Tests.Data.Download;

public sealed class DownloadOptionsTests
{
    [Fact]
    public void Defaults_describe_the_official_tarball()
    {
        var options = new DownloadOptions();

        Assert.Equal("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", options.Url);
        Assert.Equal(170_052_171, options.ExpectedSize);
        Assert.Equal("c32a1d4ab5d03f1284b67883e8d87530", options.ExpectedMd5);
        Assert.Equal("c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", options.ExpectedSha256);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), options.ReadTimeout);
        Assert.Equal(4, options.MaxRetries);
        Assert.Equal(200L * 1024 * 1024, options.MaxExtractedBytes);
        Assert.Equal(10_000, options.ExpectedRecordsPerFile);
        Assert.False(options.KeepArchive);
        Assert.Same(options, options.Validate());
    }

    public static TheoryData<string, Func<DownloadOptions>, string> InvalidOptions => new()
    {
        { "Url", () => new DownloadOptions { Url = "ftp://example.org/x.tar.gz" }, "'ftp://example.org/x.tar.gz'" },
        { "Url", () => new DownloadOptions { Url = "cifar.tar.gz" }, "'cifar.tar.gz'" },
        { "ExpectedSize", () => new DownloadOptions { ExpectedSize = 0 }, "is 0" },
        { "ExpectedMd5", () => new DownloadOptions { ExpectedMd5 = "xyz" }, "'xyz'" },
        { "ExpectedSha256", () => new DownloadOptions { ExpectedSha256 = new string('a', 63) }, "64 hexadecimal digits" },
        { "ConnectTimeout", () => new DownloadOptions { ConnectTimeout = TimeSpan.Zero }, "00:00:00" },
        { "ReadTimeout", () => new DownloadOptions { ReadTimeout = TimeSpan.FromSeconds(-1) }, "-00:00:01" },
        { "MaxRetries", () => new DownloadOptions { MaxRetries = -1 }, "is -1" },
        { "RetryBaseDelay", () => new DownloadOptions { RetryBaseDelay = TimeSpan.FromHours(1) }, "01:00:00" },
        { "MaxExtractedBytes", () => new DownloadOptions { MaxExtractedBytes = 0 }, "is 0" },
        { "ExpectedRecordsPerFile", () => new DownloadOptions { ExpectedRecordsPerFile = 0 }, "is 0" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_values_are_rejected_naming_the_option_and_the_value(string option, Func<DownloadOptions> create, string shown)
    {
        var error = Assert.ThrowsAny<ArgumentException>(create);

        Assert.Equal(option, error.ParamName);
        Assert.Contains($"DownloadOptions.{option}", error.Message, StringComparison.Ordinal);
        Assert.Contains(shown, error.Message, StringComparison.Ordinal);
        Assert.Contains("expected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checksums_are_stored_lower_case()
    {
        var options = new DownloadOptions { ExpectedMd5 = "C32A1D4AB5D03F1284B67883E8D87530" };

        Assert.Equal(DownloadOptions.OfficialMd5, options.ExpectedMd5);
    }

    [Fact]
    public void FromEnvironment_takes_the_url_from_CIFAR_BATCHNORM_URL()
    {
        var options = DownloadOptions.FromEnvironment(name => name == "CIFAR_BATCHNORM_URL" ? " http://mirror.example/c.tgz " : null);

        Assert.Equal("http://mirror.example/c.tgz", options.Url);
        Assert.Equal(DownloadOptions.OfficialSha256, options.ExpectedSha256);
    }

    [Fact]
    public void FromEnvironment_keeps_the_official_url_when_the_variable_is_unset_or_empty()
    {
        Assert.Equal(DownloadOptions.OfficialUrl, DownloadOptions.FromEnvironment(_ => null).Url);
        Assert.Equal(DownloadOptions.OfficialUrl, DownloadOptions.FromEnvironment(_ => "").Url);
    }

    [Fact]
    public void FromEnvironment_rejects_a_malformed_url_naming_the_option()
    {
        var error = Assert.Throws<ArgumentException>(() => DownloadOptions.FromEnvironment(_ => "not a url"));

        Assert.Contains("'not a url'", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("The environment variable CIFAR_BATCHNORM_URL holds 'not a url'", error.Message, StringComparison.Ordinal);
        Assert.Equal("CIFAR_BATCHNORM_URL", error.ParamName);
    }
}
