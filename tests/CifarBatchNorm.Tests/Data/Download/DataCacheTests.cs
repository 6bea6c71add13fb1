using CifarBatchNorm.Data.Download;

namespace CifarBatchNorm.Tests.Data.Download;

public sealed class DataCacheTests
{
    private const string Home = "/home/someone";

    private static Func<string, string?> Environment(string? data = null, string? xdg = null) => name => name switch
    {
        "CIFAR_BATCHNORM_DATA" => data,
        "XDG_CACHE_HOME" => xdg,
        _ => null,
    };

    [Fact]
    public void An_explicit_folder_wins()
    {
        Assert.Equal("/explicit", DataCache.Resolve("/explicit", Environment("/from-env", "/xdg"), Home));
    }

    [Fact]
    public void CIFAR_BATCHNORM_DATA_comes_next()
    {
        Assert.Equal("/from-env", DataCache.Resolve(null, Environment("/from-env", "/xdg"), Home));
        Assert.Equal("/from-env", DataCache.Resolve("", Environment("/from-env", "/xdg"), Home));
    }

    [Fact]
    public void XDG_CACHE_HOME_comes_next()
    {
        Assert.Equal("/xdg/cifar-batchnorm", DataCache.Resolve(null, Environment(xdg: "/xdg"), Home));
    }

    [Fact]
    public void The_home_cache_is_the_fallback_also_for_a_relative_XDG_CACHE_HOME()
    {
        Assert.Equal("/home/someone/.cache/cifar-batchnorm", DataCache.Resolve(null, Environment(), Home));
        Assert.Equal("/home/someone/.cache/cifar-batchnorm", DataCache.Resolve(null, Environment(xdg: "relative/cache"), Home));
    }

    [Fact]
    public void A_relative_explicit_folder_becomes_absolute()
    {
        Assert.Equal(Path.GetFullPath("data"), DataCache.Resolve("data", Environment(), Home));
    }
}
